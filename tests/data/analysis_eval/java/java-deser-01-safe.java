import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

class SyncServlet extends HttpServlet {
    private static final ObjectInputFilter FILTER = ObjectInputFilter.Config.createFilter(
        "com.example.sync.Batch;com.example.sync.Item;java.util.ArrayList;java.lang.String;maxdepth=5;maxrefs=10000;!*");

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try (ObjectInputStream in = new ObjectInputStream(req.getInputStream())) {
            in.setObjectInputFilter(FILTER);
            Object batch = in.readObject();
            getServletContext().setAttribute("lastBatch", batch);
            resp.setStatus(204);
        } catch (ClassNotFoundException e) {
            resp.sendError(400, "unknown type");
        }
    }
}
