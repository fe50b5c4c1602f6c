import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.jsontype.impl.LaissezFaireSubTypeValidator;
import java.io.IOException;

class EventDecoder {
    private final ObjectMapper mapper = new ObjectMapper();

    EventDecoder() {
        mapper.activateDefaultTyping(LaissezFaireSubTypeValidator.instance, ObjectMapper.DefaultTyping.NON_FINAL);
    }

    Object decode(byte[] messageBody) throws IOException {
        return mapper.readValue(messageBody, Object.class);
    }
}
