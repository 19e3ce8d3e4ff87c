"""The cutover certificate: the source as it is now against the target as it is now.

In the order things happen:

- ``known.py``       which records the runs quarantined (known exceptions, pure fold)
- ``compare.py``     per mapping entry: id sets, per-record field hashes, exact differences
- ``render.py``      the certificate document (JSON) and its markdown for a CRM admin
- ``certificate.py`` the I/O: extract the source again, read the target, write the reports
"""
