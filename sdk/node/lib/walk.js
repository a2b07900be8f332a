// Server lists for cascading and autofailover (Diffusion's), the same orders
// as the Go engine's client/walk.go.

// cascadeOrder is the first connection's list: every server in list order
// with cascading on, else the first server only. Load balancing does not
// reorder a cascade: C1 says list order.
export function cascadeOrder(servers, cascading) {
  return cascading ? [...servers] : servers.slice(0, 1);
}

// failoverOrder is the list a failover walks after losing `lost`: the servers
// after it in list order (wrapping round), shuffled when load balancing is
// on, then `lost` itself as the last resort. A server that was just lost is
// never the next choice; it is tried again only once every other one failed.
export function failoverOrder(servers, lost, loadBalancing, random = Math.random) {
  const i = servers.indexOf(lost);
  const others = i < 0 ? [...servers] : [...servers.slice(i + 1), ...servers.slice(0, i)];
  if (loadBalancing) shuffle(others, random);
  if (i >= 0) others.push(lost);
  return others;
}

// shuffle is Fisher–Yates in place: every permutation equally likely, so
// every candidate is equally likely to come first (F3). j is drawn from
// [0, i] inclusive; drawing from [0, i) instead (Sattolo's algorithm) would
// never leave an element in place, a bias the harness's chi-square catches.
export function shuffle(a, random = Math.random) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// seededRandom is a small deterministic PRNG (mulberry32) with Math.random's
// contract, for runs and tests that must be reproducible from a seed.
export function seededRandom(seed) {
  let s = seed >>> 0;
  return function random() {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
