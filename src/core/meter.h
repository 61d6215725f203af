/*
 * meter.h: the pieces of a progress display that `sluice run` (src/engine/progress.c) and
 * `sluice stream watch` (src/cli/client_watch.c) draw alike: the bar and the ETA.
 *
 * Pure formatting into caller-owned buffers; no state, safe from any thread.
 */
#ifndef SL_CORE_METER_H
#define SL_CORE_METER_H

#include <stddef.h>

/* Writes `width` characters into buf (size >= width + 1): '#' for the done fraction
 * frac (clamped to 0..1), '.' for the rest. */
void sl_meter_bar(double frac, char *buf, int width);

/* Writes an ETA of secs seconds: "MM:SS" under an hour, "HhMMm" above, "--:--" when
 * unknown (negative) or absurd (over 10^7 s). */
void sl_meter_eta(double secs, char *buf, size_t size);

#endif
