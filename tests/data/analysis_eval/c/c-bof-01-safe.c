#include <stdio.h>
#include <string.h>

struct request {
    const char *user_agent;
    const char *path;
};

void log_request(FILE *log, const struct request *req)
{
    char agent[64];
    char line[256];

    snprintf(agent, sizeof agent, "%s", req->user_agent);
    snprintf(line, sizeof line, "GET %s agent=%s\n", req->path, agent);
    fputs(line, log);
}
