#include <syslog.h>
#include <string.h>
#include <sys/socket.h>

void handle_client(int fd)
{
    char msg[512];
    ssize_t n = recv(fd, msg, sizeof msg - 1, 0);

    if (n <= 0) {
        return;
    }
    msg[n] = '\0';
    openlog("collector", LOG_PID, LOG_DAEMON);
    syslog(LOG_NOTICE, "%s", msg);
    closelog();
}
