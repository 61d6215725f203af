/*
 * meter.c: see meter.h.
 */
#include "core/meter.h"

#include <stdio.h>

void sl_meter_bar(double frac, char *buf, int width)
{
    if (frac < 0 || frac != frac)
        frac = 0;
    if (frac > 1)
        frac = 1;
    int fill = (int)(frac * width);
    for (int k = 0; k < width; k++)
        buf[k] = k < fill ? '#' : '.';
    buf[width] = '\0';
}

void sl_meter_eta(double secs, char *buf, size_t size)
{
    if (secs < 0 || secs > 1e7 || secs != secs)
        snprintf(buf, size, "--:--");
    else if (secs >= 3600)
        snprintf(buf, size, "%dh%02dm", (int)secs / 3600, ((int)secs % 3600) / 60);
    else
        snprintf(buf, size, "%02d:%02d", (int)secs / 60, (int)secs % 60);
}
