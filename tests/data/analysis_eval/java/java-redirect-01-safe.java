import java.io.IOException;
import java.util.Map;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

class GoServlet extends HttpServlet {
    private static final Map<String, String> TARGETS = Map.of(
        "docs", "/docs/index.html",
        "status", "https://status.example.com/",
        "support", "/help/contact");

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String target = TARGETS.getOrDefault(req.getParameter("target"), "/");
        resp.sendRedirect(target.startsWith("/") ? req.getContextPath() + target : target);
    }
}
