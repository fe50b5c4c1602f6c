// Annotated cases written for this project: script engines given request text or constants.
import javax.script.ScriptEngine;
import javax.script.ScriptEngineManager;
import javax.servlet.http.HttpServletRequest;

class ScriptEval {
    Object calc(HttpServletRequest req) throws Exception {
        ScriptEngine engine = new ScriptEngineManager().getEngineByName("javascript");
        String formula = req.getParameter("formula");
        // ruleid: java-code-injection
        Object user = engine.eval(formula);
        // ok: java-code-injection
        Object fixed = engine.eval("6 * 7");
        return user == null ? fixed : user;
    }
}
