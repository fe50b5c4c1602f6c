#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char cmdline[200] = "";
    size_t used = 0;
    int i;

    for (i = 1; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (used + n + 2 > sizeof cmdline) {
            fprintf(stderr, "arguments too long\n");
            return 1;
        }
        memcpy(cmdline + used, argv[i], n);
        used += n;
        cmdline[used++] = ' ';
        cmdline[used] = '\0';
    }
    printf("running: %s\n", cmdline);
    return 0;
}
