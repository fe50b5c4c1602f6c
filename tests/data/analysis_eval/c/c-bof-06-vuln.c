#include <stdio.h>
#include <string.h>

int ask_color(char *out, size_t outlen)
{
    char color[16];

    printf("Favourite colour? ");
    if (scanf("%s", color) != 1) {
        return -1;
    }
    strncpy(out, color, outlen - 1);
    out[outlen - 1] = '\0';
    return 0;
}
