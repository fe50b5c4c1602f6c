#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char cmdline[200] = "";
    int i;

    for (i = 1; i < argc; i++) {
        strcat(cmdline, argv[i]);
        strcat(cmdline, " ");
    }
    printf("running: %s\n", cmdline);
    return 0;
}
