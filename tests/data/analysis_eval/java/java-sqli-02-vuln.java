import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class ShipmentController {
    private final JdbcTemplate jdbc;

    ShipmentController(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @GetMapping("/shipments")
    List<Map<String, Object>> byCarrier(@RequestParam String carrier) {
        String sql = String.format("SELECT id, tracking, status FROM shipments WHERE carrier = '%s'", carrier);
        return jdbc.queryForList(sql);
    }
}
