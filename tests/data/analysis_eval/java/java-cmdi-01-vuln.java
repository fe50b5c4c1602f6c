import java.io.IOException;
import java.io.InputStream;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

class LogTailServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String log = req.getParameter("log");
        String[] cmd = {"/bin/sh", "-c", "tail -n 200 /var/log/app/" + log};
        Process p = Runtime.getRuntime().exec(cmd);
        resp.setContentType("text/plain");
        try (InputStream in = p.getInputStream()) {
            in.transferTo(resp.getOutputStream());
        }
    }
}
