#include <stdint.h>
#include <string.h>

#define MAX_PAYLOAD 512

struct frame {
    uint16_t len;
    uint8_t payload[MAX_PAYLOAD];
};

int parse_frame(const uint8_t *pkt, size_t pkt_len, struct frame *out)
{
    if (pkt_len < 2) {
        return -1;
    }
    out->len = (uint16_t)((pkt[0] << 8) | pkt[1]);
    memcpy(out->payload, pkt + 2, out->len);
    return 0;
}
