"""PDF forms of Circular 01/2018/TT-VPCP and the result documents, drawn with reportlab.

`notices`: Mẫu 01 receipt and appointment (A5, with a QR code carrying the dossier code),
Mẫu 02 supplement request, Mẫu 04 apology and new date. `results`: result documents (A4) rendered
from YAML templates in `templates/` with the extracted fields, leaving an empty box at the bottom
right for the leader's signature appearance; its coordinates come back with the rendered file.
"""
