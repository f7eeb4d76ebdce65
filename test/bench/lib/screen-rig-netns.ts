// The screen benchmarks' namespace (lib/screen-rig.ts), for reexecInNetns():
// a module of its own, light enough to load before the re-exec.
export const SCREEN_RIG_NETNS = [
  'ip link add name bench0 type veth peer name bench0p',
  'ip link set bench0 up && ip link set bench0p up',
];
