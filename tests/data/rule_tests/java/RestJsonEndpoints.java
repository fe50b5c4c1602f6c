// Annotated cases for java-xss-servlet, written for this project: JSON endpoints (a @RestController
// returning objects, a servlet that writes application/json, console logging) next to HTML twins.
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class ProfileApi {

    record Profile(String name, String bio) {}

    @GetMapping("/api/profile/{name}")
    public Profile profile(@PathVariable String name) {
        // ok: java-xss-servlet
        return new Profile(name, "bio of " + name);
    }

    @GetMapping("/api/search")
    public ResponseEntity<Map<String, Object>> search(@RequestParam("q") String q) {
        // ok: java-xss-servlet
        return ResponseEntity.ok(Map.of("query", q, "hits", List.of()));
    }

    @PostMapping("/api/echo")
    public Map<String, String> echo(@RequestBody String body) {
        // ok: java-xss-servlet
        System.out.println("echo request: " + body);
        // ok: java-xss-servlet
        return Map.of("body", body);
    }

    @GetMapping("/card")
    public String card(@RequestParam String name) {
        // ruleid: java-xss-servlet
        return "<div class=\"card\">" + name + "</div>";
    }
}

class StatusServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String id = req.getParameter("id");
        resp.setContentType("application/json");
        PrintWriter out = resp.getWriter();
        // ok: java-xss-servlet
        out.print("{\"id\": \"" + id.replace("\"", "") + "\"}");
    }
}

class HtmlStatusServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String id = req.getParameter("id");
        resp.setContentType("text/html");
        PrintWriter out = resp.getWriter();
        // ruleid: java-xss-servlet
        out.print("<p>Status of " + id + "</p>");
    }
}
