import java.io.IOException;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

class GoServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String target = req.getParameter("target");
        if (target == null || target.isEmpty()) {
            target = req.getContextPath() + "/";
        }
        resp.sendRedirect(target);
    }
}
