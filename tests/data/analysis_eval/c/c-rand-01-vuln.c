#include <stdlib.h>
#include <time.h>

void make_session_token(char *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    srand((unsigned)time(NULL));
    for (i = 0; i + 1 < len; i++) {
        out[i] = hex[rand() % 16];
    }
    out[len - 1] = '\0';
}
