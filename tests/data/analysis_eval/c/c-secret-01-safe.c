#include <crypt.h>
#include <stdio.h>
#include <string.h>

static int authorized;

int service_login(const char *password)
{
    char stored[128];
    FILE *f = fopen("/etc/appliance/maint.hash", "r");
    const char *computed;

    if (f == NULL || fgets(stored, sizeof stored, f) == NULL) {
        if (f) fclose(f);
        return -1;
    }
    fclose(f);
    stored[strcspn(stored, "\n")] = '\0';
    computed = crypt(password, stored);
    if (computed != NULL && strcmp(computed, stored) == 0) {
        authorized = 1;
        puts("maintenance mode enabled");
        return 0;
    }
    return -1;
}
