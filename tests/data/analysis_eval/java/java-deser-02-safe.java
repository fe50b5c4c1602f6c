import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

class EventDecoder {
    record OrderEvent(String orderId, String type, long amountCents) {}

    private final ObjectMapper mapper = new ObjectMapper()
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    OrderEvent decode(byte[] messageBody) throws IOException {
        return mapper.readValue(messageBody, OrderEvent.class);
    }
}
