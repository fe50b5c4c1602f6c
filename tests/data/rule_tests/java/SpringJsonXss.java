// Annotated cases for java-xss-servlet, written for this project: a @ResponseBody String is HTML,
// a @ResponseBody object or a JSON-producing method is not.
import java.util.Map;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseBody;

@Controller
public class SpringJsonXss {

    @GetMapping("/greet")
    @ResponseBody
    public String greet(@RequestParam String name) {
        // ruleid: java-xss-servlet
        return "<h1>Hello " + name + "</h1>";
    }

    @GetMapping("/api/greet")
    @ResponseBody
    public Map<String, String> greetJson(@RequestParam String name) {
        // ok: java-xss-servlet
        return Map.of("greeting", "Hello " + name);
    }

    @GetMapping(value = "/api/echo", produces = "application/json")
    @ResponseBody
    public String echoJson(@RequestParam String name) {
        // ok: java-xss-servlet
        return "{\"name\": \"" + name.replace("\"", "") + "\"}";
    }
}
