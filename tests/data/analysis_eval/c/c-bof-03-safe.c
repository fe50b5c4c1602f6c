#include <stdio.h>
#include <unistd.h>

int open_mailbox(const char *username)
{
    char path[128];
    FILE *fp;
    int n;

    n = snprintf(path, sizeof(path), "/var/mail/%s/inbox.mbox", username);
    if (n < 0 || (size_t)n >= sizeof(path) || access(path, R_OK) != 0) {
        return -1;
    }
    fp = fopen(path, "r");
    if (fp == NULL) {
        return -1;
    }
    fclose(fp);
    return 0;
}
