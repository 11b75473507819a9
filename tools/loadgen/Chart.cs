using System.Globalization;
using System.Text;

namespace Telemetry.LoadGen;

/// <summary>A plain SVG line chart of the progress samples: events accepted, in answer_events and in the aggregates over time.</summary>
public static class Chart
{
    public static string Svg(IReadOnlyList<(double Seconds, long Accepted, long Rows, long Aggregated)> samples, string title)
    {
        const int width = 800, height = 400, left = 70, right = 20, top = 40, bottom = 40;
        var maxX = Math.Max(1, samples.Count == 0 ? 1 : samples.Max(s => s.Seconds));
        var maxY = Math.Max(1, samples.Count == 0 ? 1 : samples.Max(s => Math.Max(s.Accepted, Math.Max(s.Rows, s.Aggregated))));
        string X(double seconds) => (left + seconds / maxX * (width - left - right)).ToString("F1", CultureInfo.InvariantCulture);
        string Y(double value) => (height - bottom - value / maxY * (height - top - bottom)).ToString("F1", CultureInfo.InvariantCulture);
        string Line(Func<(double Seconds, long Accepted, long Rows, long Aggregated), long> value, string color) =>
            $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', samples.Select(s => $"{X(s.Seconds)},{Y(value(s))}"))}\"/>";

        var svg = new StringBuilder();
        svg.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        svg.AppendLine($"<text x=\"{left}\" y=\"20\" font-size=\"14\">{System.Security.SecurityElement.Escape(title)}</text>");
        svg.AppendLine($"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"black\"/>");
        svg.AppendLine($"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"black\"/>");
        for (var i = 0; i <= 4; i++)
        {
            svg.AppendLine($"<text x=\"{left - 5}\" y=\"{Y(maxY * i / 4.0)}\" text-anchor=\"end\">{maxY * i / 4:N0}</text>");
            svg.AppendLine($"<text x=\"{X(maxX * i / 4.0)}\" y=\"{height - bottom + 15}\" text-anchor=\"middle\">{maxX * i / 4:N0} s</text>");
        }
        svg.AppendLine(Line(s => s.Accepted, "#1f77b4"));
        svg.AppendLine(Line(s => s.Rows, "#2ca02c"));
        svg.AppendLine(Line(s => s.Aggregated, "#d62728"));
        svg.AppendLine($"<text x=\"{left + 10}\" y=\"{top + 12}\" fill=\"#1f77b4\">events accepted (202)</text>");
        svg.AppendLine($"<text x=\"{left + 10}\" y=\"{top + 28}\" fill=\"#2ca02c\">rows in answer_events</text>");
        svg.AppendLine($"<text x=\"{left + 10}\" y=\"{top + 44}\" fill=\"#d62728\">events in the aggregates</text>");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
