"""Regenerate tidal_report.pdf (a two-page report with a header, footer and page numbers).

Run from the repository root: python tests/data/uploads/make_pdf.py (needs fpdf2).
"""

from pathlib import Path

from fpdf import FPDF

PAGES = [
    [
        "Tidal Energy Outlook 2025",
        "The Harbour Tidal Array produced 41 gigawatt-hours of electricity in 2024.",
        "Output rose by 12 percent compared with 2023 after two new turbines were installed.",
    ],
    [
        "Costs and Outlook",
        "The operator estimates that maintenance costs will fall to 9 million pounds a year.",
        "A third phase with eight more turbines is planned for 2027, subject to permits.",
    ],
]


def main() -> None:
    pdf = FPDF()
    pdf.set_auto_page_break(auto=False)
    pdf.set_title("Tidal Energy Outlook 2025")
    pdf.set_author("Marine Power Institute")
    pdf.set_creation_date(__import__("datetime").datetime(2025, 3, 14))
    for number, lines in enumerate(PAGES, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        for line in lines:
            pdf.multi_cell(0, 8, line)
            pdf.ln(2)
        pdf.set_y(-20)
        pdf.cell(0, 8, f"Page {number}")
    pdf.output(str(Path(__file__).with_name("tidal_report.pdf")))


if __name__ == "__main__":
    main()
