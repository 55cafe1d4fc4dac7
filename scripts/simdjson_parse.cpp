// simdjson's cost on the payloads `latentd bench --parse FILE` times: the same file,
// the same passes (payloads in order, cycled to at least N observations, the
// fastest of R passes), every number stored into a buffer as latentd's parser does.
// Built and run by scripts/compare_simdjson.py; needs libsimdjson-dev.
//
//   simdjson_parse FILE OBSERVATIONS REPEATS  ->  one JSON line
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace simdjson;

// {"x": [...]} or {"xs": [[...], ...]}: the values, row-major; the row count.
template <typename Row>
static size_t rows(Row row, double *out, size_t &n) {
  for (double v : row) out[n++] = v;
  return 1;
}

static size_t parseOnDemand(ondemand::parser &parser, const padded_string &payload, double *out) {
  ondemand::document doc = parser.iterate(payload);
  ondemand::object object = doc.get_object();
  size_t n = 0, count = 0;
  for (auto field : object) {
    std::string_view key = field.unescaped_key();
    if (key == "xs") {
      for (ondemand::array row : field.value().get_array()) count += rows(row, out, n);
    } else if (key == "x") {
      count += rows(field.value().get_array(), out, n);
    }
  }
  return count;
}

static size_t parseDOM(dom::parser &parser, const padded_string &payload, double *out) {
  dom::object object = parser.parse(payload).get_object();
  size_t n = 0, count = 0;
  dom::array xs;
  if (object["xs"].get(xs) == SUCCESS) {
    for (dom::array row : xs) count += rows(row, out, n);
  } else {
    count += rows(dom::array(object["x"]), out, n);
  }
  return count;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s FILE OBSERVATIONS REPEATS\n", argv[0]);
    return 2;
  }
  std::ifstream file(argv[1]);
  std::vector<padded_string> payloads;
  for (std::string line; std::getline(file, line);)
    if (!line.empty()) payloads.emplace_back(line);
  const size_t wanted = std::strtoul(argv[2], nullptr, 10);
  const int repeats = std::atoi(argv[3]);
  if (payloads.empty() || wanted == 0 || repeats < 1) {
    std::fprintf(stderr, "no payloads in %s, or OBSERVATIONS/REPEATS below 1\n", argv[1]);
    return 2;
  }
  ondemand::parser onDemand;
  dom::parser dom;
  std::vector<double> out(1 << 20);
  std::vector<size_t> counts;
  size_t bytes = 0;
  for (auto &p : payloads) {
    size_t a = parseOnDemand(onDemand, p, out.data()), b = parseDOM(dom, p, out.data());
    if (a != b || a == 0) {
      std::fprintf(stderr, "the two simdjson APIs disagree on a payload (%zu vs %zu rows)\n", a, b);
      return 1;
    }
    counts.push_back(a);
  }
  size_t messages = 0, observations = 0;
  while (observations < wanted) {
    observations += counts[messages % payloads.size()];
    bytes += payloads[messages % payloads.size()].size();
    messages++;
  }
  double checksum = 0;
  auto fastest = [&](auto parse) {
    double best = 1e300;
    for (int r = 0; r < repeats; r++) {
      auto start = std::chrono::steady_clock::now();
      for (size_t m = 0; m < messages; m++) {
        parse(payloads[m % payloads.size()], out.data());
        checksum += out[0];
      }
      std::chrono::duration<double, std::nano> t = std::chrono::steady_clock::now() - start;
      best = std::min(best, t.count() / double(observations));
    }
    return best;
  };
  double ondemandNs = fastest([&](const padded_string &p, double *o) { return parseOnDemand(onDemand, p, o); });
  double domNs = fastest([&](const padded_string &p, double *o) { return parseDOM(dom, p, o); });
  std::printf("{\"parser\":\"simdjson %d.%d.%d\",\"implementation\":\"%s\",\"n\":%zu,\"bytes_per_obs\":%.3f,"
              "\"ondemand_ns_per_obs\":%.2f,\"dom_ns_per_obs\":%.2f,\"checksum_nonzero\":%s}\n",
              int(SIMDJSON_VERSION_MAJOR), int(SIMDJSON_VERSION_MINOR), int(SIMDJSON_VERSION_REVISION),
              get_active_implementation()->name().c_str(), observations, double(bytes) / double(observations),
              ondemandNs, domNs, checksum != 0 ? "true" : "false");
  return 0;
}
