package io.quantguard.report;

import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * A {@link Judgement} as JUnit XML (the Ant/Surefire format every CI server reads): one {@code
 * testsuite} per candidate, one {@code testcase} per rule and slice, a {@code failure} that says
 * measured against limit, a {@code skipped} for slices too small to judge. So a CI run lists each
 * rule as a test and a regression shows up where test failures do.
 */
public final class JUnitReport {
  private JUnitReport() {}

  public static String render(Judgement j) {
    StringWriter out = new StringWriter();
    try {
      XMLStreamWriter x = XMLOutputFactory.newFactory().createXMLStreamWriter(out);
      x.writeStartDocument("UTF-8", "1.0");
      nl(x, 0);
      x.writeStartElement("testsuites");
      x.writeAttribute("name", "quantguard policy " + j.policy());
      counts(x, j.verdicts());
      for (String c : j.candidates()) {
        List<RuleVerdict> vs = j.verdicts(c);
        nl(x, 1);
        x.writeStartElement("testsuite");
        x.writeAttribute("name", c);
        counts(x, vs);
        nl(x, 2);
        x.writeStartElement("properties");
        property(x, "policy", j.policy());
        property(x, "task", j.task());
        nl(x, 2);
        x.writeEndElement();
        for (RuleVerdict v : vs) {
          testcase(x, c, v);
        }
        nl(x, 1);
        x.writeEndElement();
      }
      nl(x, 0);
      x.writeEndElement();
      nl(x, 0);
      x.writeEndDocument();
      x.close();
    } catch (XMLStreamException e) {
      throw new IllegalStateException("cannot write JUnit XML", e);
    }
    return out.toString();
  }

  /** Writes the XML to {@code file} atomically. */
  public static Path write(Judgement j, Path file) {
    return AtomicFile.write(file, render(j));
  }

  private static void testcase(XMLStreamWriter x, String candidate, RuleVerdict v)
      throws XMLStreamException {
    nl(x, 2);
    x.writeStartElement("testcase");
    x.writeAttribute("classname", candidate);
    x.writeAttribute("name", v.name());
    x.writeAttribute("time", "0");
    switch (v.outcome()) {
      case PASS -> {}
      case FAIL -> {
        nl(x, 3);
        x.writeStartElement("failure");
        x.writeAttribute("type", "PolicyViolation");
        x.writeAttribute("message", v.message());
        x.writeCharacters(detail(v));
        x.writeEndElement();
        nl(x, 2);
      }
      case SKIPPED -> {
        nl(x, 3);
        x.writeEmptyElement("skipped");
        x.writeAttribute("message", v.message());
        nl(x, 2);
      }
    }
    x.writeEndElement();
  }

  private static String detail(RuleVerdict v) {
    return "metric:   "
        + v.rule().metric()
        + "\nslice:    "
        + v.slice()
        + " ("
        + v.samples()
        + " samples)\nlimit:    "
        + v.rule().limit().key()
        + " "
        + v.limitText()
        + " ("
        + v.rule().use().key()
        + ")\nmeasured: "
        + (v.measured() == null
            ? v.note()
            : v.rule().limit().quantityName() + " " + v.measuredText())
        + "\nvalue:    "
        + Format.num(v.value())
        + (v.baseline() == null ? "" : " (baseline " + Format.num(v.baseline()) + ")")
        + "\nmargin:   "
        + v.marginText()
        + "\n";
  }

  private static void counts(XMLStreamWriter x, List<RuleVerdict> vs) throws XMLStreamException {
    x.writeAttribute("tests", Integer.toString(vs.size()));
    x.writeAttribute("failures", Long.toString(vs.stream().filter(RuleVerdict::failed).count()));
    x.writeAttribute("errors", "0");
    x.writeAttribute(
        "skipped",
        Long.toString(vs.stream().filter(v -> v.outcome() == RuleVerdict.Outcome.SKIPPED).count()));
    x.writeAttribute("time", "0");
  }

  private static void property(XMLStreamWriter x, String name, String value)
      throws XMLStreamException {
    nl(x, 3);
    x.writeEmptyElement("property");
    x.writeAttribute("name", name);
    x.writeAttribute("value", value);
  }

  private static void nl(XMLStreamWriter x, int depth) throws XMLStreamException {
    x.writeCharacters("\n" + "  ".repeat(depth));
  }
}
