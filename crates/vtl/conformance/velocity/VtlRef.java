// Reference renderer for the differential harness: renders every template
// given on the command line with Apache Velocity 1.7 and writes the output
// next to it, so the Rust engine's output can be compared byte for byte.
//
// Usage: java -cp velocity.jar:commons-*.jar:. VtlRef OUT_DIR FILE...
// For FILE x.vm it writes OUT_DIR/x.out (rendered text) or OUT_DIR/x.err.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;

public class VtlRef {
    /** The fixed context every corpus template sees; mirrored in the Rust harness. */
    static VelocityContext context() {
        VelocityContext c = new VelocityContext();
        c.put("name", "World");
        c.put("empty", "");
        c.put("n", Integer.valueOf(5));
        c.put("neg", Integer.valueOf(-3));
        c.put("pi", Double.valueOf(3.5));
        c.put("yes", Boolean.TRUE);
        c.put("no", Boolean.FALSE);
        List<Object> list = new ArrayList<>();
        list.add("a"); list.add("b"); list.add("c");
        c.put("list", list);
        List<Object> nums = new ArrayList<>();
        nums.add(3); nums.add(1); nums.add(2);
        c.put("nums", nums);
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("k", "v");
        map.put("num", 42);
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("deep", "yes");
        map.put("inner", inner);
        c.put("map", map);
        List<Object> people = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("id", i);
            p.put("name", "p" + i);
            p.put("admin", i == 1);
            people.add(p);
        }
        c.put("people", people);
        return c;
    }

    public static void main(String[] args) throws Exception {
        VelocityEngine ve = new VelocityEngine();
        ve.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        ve.init();
        File out = new File(args[0]);
        out.mkdirs();
        for (int i = 1; i < args.length; i++) {
            File f = new File(args[i]);
            String base = f.getName().replaceAll("\\.vm$", "");
            String src = new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8);
            StringWriter w = new StringWriter();
            try {
                ve.evaluate(context(), w, base, src);
                Files.write(new File(out, base + ".out").toPath(), w.toString().getBytes(StandardCharsets.UTF_8));
            } catch (Throwable e) {
                Files.write(new File(out, base + ".err").toPath(), String.valueOf(e).getBytes(StandardCharsets.UTF_8));
            }
        }
    }
}
