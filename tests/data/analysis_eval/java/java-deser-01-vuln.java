import java.io.IOException;
import java.io.ObjectInputStream;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

class SyncServlet extends HttpServlet {
    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try (ObjectInputStream in = new ObjectInputStream(req.getInputStream())) {
            Object batch = in.readObject();
            getServletContext().setAttribute("lastBatch", batch);
            resp.setStatus(204);
        } catch (ClassNotFoundException e) {
            resp.sendError(400, "unknown type");
        }
    }
}
