import freemarker.template.Configuration;
import freemarker.template.Template;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.Map;

class NewsletterRenderer {
    private final Configuration cfg = new Configuration(Configuration.VERSION_2_3_32);

    String preview(String userTemplate, Map<String, Object> model) throws Exception {
        Template t = new Template("preview", new StringReader(userTemplate), cfg);
        StringWriter out = new StringWriter();
        t.process(model, out);
        return out.toString();
    }
}
