import java.util.Random;

class OneTimeCodeService {
    private final Random random = new Random();

    String newCode() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            sb.append(random.nextInt(10));
        }
        return sb.toString();
    }
}
