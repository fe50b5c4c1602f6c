import java.io.IOException;
import java.io.InputStream;
import java.util.Set;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

class LogTailServlet extends HttpServlet {
    private static final Set<String> LOGS = Set.of("app.log", "access.log", "audit.log");

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String log = req.getParameter("log");
        if (!LOGS.contains(log)) {
            resp.sendError(400);
            return;
        }
        Process p = new ProcessBuilder("tail", "-n", "200", "/var/log/app/" + log).start();
        resp.setContentType("text/plain");
        try (InputStream in = p.getInputStream()) {
            in.transferTo(resp.getOutputStream());
        }
    }
}
