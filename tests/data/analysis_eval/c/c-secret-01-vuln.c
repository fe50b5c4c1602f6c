#include <stdio.h>
#include <string.h>

static int authorized;

int service_login(const char *password)
{
    if (strcmp(password, "Adm1n#Maint2019") == 0) {
        authorized = 1;
        puts("maintenance mode enabled");
        return 0;
    }
    return -1;
}
