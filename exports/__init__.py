"""Document and table exports (PDF via weasyprint, CSV/XLSX via pandas): see issue 4."""
