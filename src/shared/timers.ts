/** Node's timers take at most 2^31-1 ms: a longer delay silently becomes 1 ms, so every longer wait is checked against this. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
