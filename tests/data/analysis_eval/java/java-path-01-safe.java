import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class ExportController {
    private static final Path EXPORTS = Paths.get("/srv/exports").toAbsolutePath().normalize();

    @GetMapping("/exports/file")
    ResponseEntity<byte[]> get(@RequestParam("name") String name) throws IOException {
        Path file = EXPORTS.resolve(name).normalize();
        if (!file.startsWith(EXPORTS) || !Files.isRegularFile(file)) {
            return ResponseEntity.notFound().build();
        }
        return ResponseEntity.ok(Files.readAllBytes(file));
    }
}
