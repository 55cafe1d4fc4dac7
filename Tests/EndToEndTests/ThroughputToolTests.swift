import Foundation
import Testing

/// `latentd throughput` end to end on a small load: every framing is measured
/// against the transport reference (posteriors on, against the relay), nothing is lost, the control socket
/// answered while saturated, and the latency run recorded every message, through the
/// daemon and through the latency reference.
@Suite struct ThroughputToolTests {
    /// Runs `latentd throughput` with `arguments`, expects exit 0, and returns its
    /// output with the lines that parse as JSON objects.
    func throughput(_ arguments: [String]) throws -> (output: String, lines: [[String: Any]]) {
        let (status, output) = try runLatentd(["throughput"] + arguments)
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        return (output, lines)
    }

    @Test func smallRunReportsEveryFigure() throws {
        let (output, lines) = try throughput([
            "--observations", "3000", "--rates", "50", "--latency-seconds", "0.3", "--soak-seconds", "0.5",
        ])
        let ingest = lines.filter { $0["framing"] != nil }
        #expect(Set(ingest.compactMap { $0["framing"] as? String }) == ["json1", "json100", "f64le100"], "\(output)")
        #expect(ingest.count == 4, "three framings with posteriors off, json1 with posteriors on: \(output)")
        for line in ingest {
            #expect(line["lost"] as? Int == 0 && line["observations"] as? Int == 3000, "\(line)")
            #expect((line["daemon_obs_per_s"] as? Int ?? 0) > 0, "\(line)")
            expectPlausibleThreadTimes(line)
            // Each rate next to its reference: the plain transport, or (posteriors on) the relay.
            let reference = line["posteriors"] as? Bool == false ? "transport_obs_per_s" : "relay_obs_per_s"
            #expect((line[reference] as? Int ?? 0) > 0 && (line["ratio"] as? Double ?? 0) > 0, "\(line)")
        }
        let status_ = lines.compactMap { $0["status_while_saturated"] as? [String: Any] }.first
        #expect((status_?["requests"] as? Int ?? 0) > 0, "\(output)")
        let latency = lines.compactMap { $0["latency"] as? [String: Any] }.first ?? [:]
        let rate = latency["rate"] as? Int ?? 0
        #expect(rate > 0 && abs((latency["count"] as? Int ?? 0) - Int(Double(rate) * 0.3)) <= 1, "every scheduled message came back: \(latency)")
        #expect((latency["p50_us"] as? Double ?? 0) > 0 && (latency["max_us"] as? Double ?? 0) >= (latency["p99_us"] as? Double ?? .infinity))
        // Each message left the tool before its posterior came back, so each send lag
        // is below its latency, and so is every percentile of them.
        for (lag, total) in [("send_lag_p50_us", "p50_us"), ("send_lag_p99_us", "p99_us"), ("send_lag_max_us", "max_us")] {
            let l = latency[lag] as? Double ?? -1, t = latency[total] as? Double ?? -1
            #expect(l >= 0 && l <= t, "\(lag) \(l) against \(total) \(t): \(latency)")
        }
        let relayCapacity = ingest.first { $0["posteriors"] as? Bool == true }?["relay_obs_per_s"] as? Int ?? 0
        expectLatencyReference(latency, relayCapacity: relayCapacity, seconds: 0.3)
        let soak = lines.compactMap { $0["soak"] as? [String: Any] }.first
        #expect((soak?["rss_mib"] as? [Double])?.allSatisfy { $0 > 1 } == true, "\(output)")
    }
}

extension ThroughputToolTests {
    /// The daemon's CPU time per observation by thread role, from the kernel's
    /// schedstat in nanoseconds: the socket thread ran (it learned every observation),
    /// and it cannot have run and waited for a CPU for longer than the round lasted
    /// (the round's wall time is observations ÷ rate; the tool reads /proc just
    /// outside it, hence the 5 ms). A figure in clock ticks or microseconds fails one side.
    func expectPlausibleThreadTimes(_ line: [String: Any]) {
        let cpu = line["cpu_ns_per_obs"] as? [String: Any] ?? [:]
        #expect(Set(cpu.keys) == ["main", "io", "parse"], "\(line)")
        let main = cpu["main"] as? Double ?? -1, waiting = line["main_runnable_ns_per_obs"] as? Double ?? -1
        let observations = Double(line["observations"] as? Int ?? 0), rate = Double(line["daemon_obs_per_s"] as? Int ?? 0)
        #expect(main > 0 && waiting >= 0, "\(line)")
        let wall = observations / max(rate, 1) * 1e9
        #expect((main + waiting) * observations <= wall + 5e6, "\(line)")
        #expect(cpu.values.allSatisfy { ($0 as? Double ?? -1) >= 0 }, "\(line)")
    }

    /// Each latency line carries the relay's run at the same rate: every scheduled
    /// message came back through it too (it answers with the id it was sent). It also
    /// carries the relay at the same percentage of its own capacity. All three runs say
    /// what they cost: the tested process's socket thread ran, the tool ran, and the
    /// machine was busy on at least a sliver and at most all of its CPUs (a misread
    /// /proc/stat gives 0 or more than the machine has).
    func expectLatencyReference(_ latency: [String: Any], relayCapacity: Int, seconds: Double) {
        let relay = latency["relay"] as? [String: Any] ?? [:]
        #expect(relay["count"] as? Int == latency["count"] as? Int && (relay["count"] as? Int ?? 0) > 0, "\(latency)")
        #expect((relay["p50_us"] as? Double ?? 0) > 0 && (relay["max_us"] as? Double ?? 0) >= (relay["p99_us"] as? Double ?? .infinity),
                "\(relay)")
        // The relay again, at the same percentage of its own capacity: its rate follows
        // from relay_obs_per_s, and every message of that schedule came back.
        let own = latency["relay_at_own_capacity"] as? [String: Any] ?? [:]
        let percent = Double(latency["percent_of_capacity"] as? Int ?? 0), ownRate = own["rate"] as? Int ?? -1
        #expect(abs(Double(ownRate) - Double(relayCapacity) * percent / 100) <= 1, "\(own) against \(relayCapacity)")
        #expect(ownRate > 0 && abs((own["count"] as? Int ?? 0) - Int(Double(ownRate) * seconds)) <= 1,
                "\(own): \(ownRate) messages/s for \(seconds) s")
        #expect((own["max_us"] as? Double ?? 0) >= (own["p99_us"] as? Double ?? .infinity) && (own["p50_us"] as? Double ?? 0) > 0,
                "\(own)")
        let cpus = Double(ProcessInfo.processInfo.activeProcessorCount)
        for run in [latency, relay, own] {
            let cpu = run["cpu_ns_per_msg"] as? [String: Any] ?? [:]
            #expect(Set(cpu.keys) == ["main", "io"] && (cpu["main"] as? Double ?? 0) > 0, "\(run)")
            #expect((run["tool_cpu_ns_per_msg"] as? Double ?? 0) > 0, "\(run)")
            let busy = run["busy_cpus"] as? Double ?? -1
            #expect(busy > 0 && busy <= cpus + 0.05, "\(busy) busy CPUs of \(cpus): \(run)")
        }
    }

    /// `--pin` starts the daemon through taskset on the last CPU; the run must
    /// still account for every observation and every scheduled message.
    @Test func pinnedDaemonRunsToTheEnd() throws {
        let (output, lines) = try throughput([
            "--framings", "json1", "--observations", "2000", "--rates", "50", "--latency-seconds", "0.3", "--pin",
        ])
        #expect(lines.filter { $0["framing"] != nil }.allSatisfy { $0["lost"] as? Int == 0 }, "\(output)")
        let latency = lines.compactMap { $0["latency"] as? [String: Any] }.first ?? [:]
        #expect((latency["count"] as? Int ?? 0) > 0, "\(output)")
    }

    /// `--p99-target-ms` bisects the send rate between 0 and the capacity: the rate it
    /// reports is below the capacity, and the run at that rate kept p99 within the target.
    @Test func latencyBoundedRateKeepsItsTarget() throws {
        let (_, lines) = try throughput([
            "--framings", "json1", "--observations", "2000", "--rates", "50", "--latency-seconds", "0.2",
            "--p99-target-ms", "50",
        ])
        let capacity = lines.first { $0["posteriors"] as? Bool == true }?["daemon_obs_per_s"] as? Int ?? 0
        let bounded = lines.compactMap { $0["latency_bounded"] as? [String: Any] }.first ?? [:]
        let rate = bounded["rate"] as? Int ?? -1
        #expect(rate > 0 && rate < capacity, "\(bounded) against a capacity of \(capacity)")
        #expect((bounded["p99_us"] as? Double ?? .infinity) <= 50_000, "\(bounded)")
        let fraction = bounded["fraction_of_capacity"] as? Double ?? -1
        #expect(abs(fraction - Double(rate) / Double(max(capacity, 1))) < 2e-3, "\(bounded) against \(capacity)")
    }

    /// `--rounds` alternates transport and daemon measurements and summarizes the ratios.
    @Test func roundsAreReportedAndSummarized() throws {
        let (output, lines) = try throughput([
            "--framings", "f64le100", "--observations", "2000", "--rounds", "3", "--rates", "50",
            "--latency-seconds", "0.2",
        ])
        let rounds = lines.filter { $0["framing"] as? String == "f64le100" && $0["round"] != nil }
        #expect(rounds.compactMap { $0["round"] as? Int } == [1, 2, 3], "\(output)")
        #expect(rounds.allSatisfy { $0["lost"] as? Int == 0 && $0["observations"] as? Int == 2000 }, "\(output)")
        // From the rates (whole numbers of observations/s), not the 3-decimal ratios.
        let ratios = rounds.compactMap { line -> Double? in
            guard let d = line["daemon_obs_per_s"] as? Int, let t = line["transport_obs_per_s"] as? Int, t > 0 else { return nil }
            return Double(d) / Double(t)
        }.sorted()
        let summary = lines.first { $0["ratio_median"] != nil } ?? [:]
        #expect(summary["rounds"] as? Int == 3 && ratios.count == 3, "\(output)")
        func close(_ key: String, _ want: Double) -> Bool {
            abs((summary[key] as? Double ?? -1) - want) <= 1e-3 * want
        }
        #expect(close("ratio_median", ratios[1]) && close("ratio_min", ratios[0]) && close("ratio_max", ratios[2]),
                "\(summary) against \(ratios)")
    }
}
