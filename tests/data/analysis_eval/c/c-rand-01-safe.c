#include <stdlib.h>
#include <sys/random.h>

int make_session_token(char *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    size_t i, n = (len - 1) / 2;

    if (len < 3 || n > sizeof raw || getrandom(raw, n, 0) != (ssize_t)n) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * n] = '\0';
    return 0;
}
