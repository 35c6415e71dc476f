"""extractors: from scans, photos and PDFs to Vietnamese text, word boxes and form fields.

Owns image clean-up (OpenCV), OCR (Tesseract behind a small engine interface), searchable PDFs,
and field extraction from ID cards, forms and official documents. Imports only `motcua.errors`
and `motcua.types` from the project; never `flows`, `signing` or `storage`.
"""
