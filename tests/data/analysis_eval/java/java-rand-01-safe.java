import java.security.SecureRandom;

class OneTimeCodeService {
    private final SecureRandom random = new SecureRandom();

    String newCode() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            sb.append(random.nextInt(10));
        }
        return sb.toString();
    }
}
