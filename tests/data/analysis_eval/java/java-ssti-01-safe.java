import freemarker.template.Configuration;
import freemarker.template.Template;
import java.io.StringWriter;
import java.util.Map;
import java.util.Set;

class NewsletterRenderer {
    private static final Set<String> LAYOUTS = Set.of("plain", "digest", "promo");
    private final Configuration cfg = new Configuration(Configuration.VERSION_2_3_32);

    NewsletterRenderer() {
        cfg.setClassForTemplateLoading(NewsletterRenderer.class, "/templates/newsletter");
    }

    String preview(String layout, Map<String, Object> model) throws Exception {
        Template t = cfg.getTemplate((LAYOUTS.contains(layout) ? layout : "plain") + ".ftlh");
        StringWriter out = new StringWriter();
        t.process(model, out);
        return out.toString();
    }
}
