/// Numerics for latentd: Gaussian mixtures, sufficient statistics and EM. No I/O.
public enum LatentCore {}
