// Kernel ABI values the TypeScript side reads from BPF_PROG_RUN results:
// XDP verdicts (enum xdp_action) and bpf_fib_lookup() results
// (BPF_FIB_LKUP_RET_*), as in <linux/bpf.h>. Fixed by the kernel's UAPI,
// defined here once.
export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;

export const FIB_SUCCESS = 0;
export const FIB_NOT_FWDED = 4;
export const FIB_NO_NEIGH = 7;
