// Annotated cases written for this project: cookie flags, response headers, cleartext transport.
import java.io.IOException;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import javax.servlet.http.Cookie;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

class PrefsServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String lang = req.getParameter("lang");

        Cookie plain = new Cookie("session", newSessionId());
        // ruleid: java-cookie-not-secure
        resp.addCookie(plain);

        Cookie strict = new Cookie("session", newSessionId());
        strict.setSecure(true);
        strict.setHttpOnly(true);
        // ok: java-cookie-not-secure
        resp.addCookie(strict);

        Cookie off = new Cookie("remember", newSessionId());
        // ruleid: java-cookie-not-secure
        off.setSecure(false);

        // ruleid: java-header-injection
        resp.setHeader("Content-Language", lang);
        // ok: java-header-injection
        resp.setHeader("Content-Language", lang.replaceAll("[\\r\\n]", ""));
        // ok: java-header-injection
        resp.addHeader("X-Next", URLEncoder.encode(lang, StandardCharsets.UTF_8));
        // ok: java-header-injection
        resp.setHeader("Cache-Control", "no-store");
    }

    private String newSessionId() {
        return java.util.UUID.randomUUID().toString();
    }

    URL updateFeed() throws IOException {
        // ruleid: java-cleartext-transport
        return new URL("http://updates.example.com/feed.xml");
    }

    URL updateFeedTls() throws IOException {
        // ok: java-cleartext-transport
        return new URL("https://updates.example.com/feed.xml");
    }

    URL localAdmin() throws IOException {
        // ok: java-cleartext-transport
        return new URL("http://localhost:8080/health");
    }
}
