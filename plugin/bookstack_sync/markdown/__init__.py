"""What a page becomes: Markdown events, forge Markdown to BookStack Markdown, rendering, link localisation."""
