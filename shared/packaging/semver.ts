/** Semantic versions (semver.org 2.0.0): validation and precedence, for package versions. */

// The official regular expression from semver.org (numbers without leading zeros, optional pre-release and build).
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** True when text is a semantic version such as 1.2.3 or 1.0.0-rc.1+build.5. */
export function isSemver(text: unknown): text is string {
  return typeof text === 'string' && text.length <= 64 && SEMVER.test(text);
}

/** Compares two semantic versions by precedence (build metadata ignored): negative, 0 or positive. */
export function compareSemver(a: string, b: string): number {
  const pa = SEMVER.exec(a);
  const pb = SEMVER.exec(b);
  if (!pa) throw new Error(`"${a}" is not a semantic version (expected MAJOR.MINOR.PATCH, e.g. 1.2.0)`);
  if (!pb) throw new Error(`"${b}" is not a semantic version (expected MAJOR.MINOR.PATCH, e.g. 1.2.0)`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return Math.sign(d);
  }
  // A pre-release ranks below its release; identifiers compare numerically when numeric, else as ASCII.
  if (pa[4] === undefined || pb[4] === undefined) return pa[4] === pb[4] ? 0 : pa[4] === undefined ? 1 : -1;
  const xa = pa[4].split('.');
  const xb = pb[4].split('.');
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const na = /^\d+$/.test(xa[i]);
    const nb = /^\d+$/.test(xb[i]);
    if (na && nb && Number(xa[i]) !== Number(xb[i])) return Math.sign(Number(xa[i]) - Number(xb[i]));
    if (na !== nb) return na ? -1 : 1;
    if (xa[i] !== xb[i]) return xa[i] < xb[i] ? -1 : 1;
  }
  return Math.sign(xa.length - xb.length);
}
