"""Propose a field map, explain it, and gate the run on a person's confirmation (issue 10).

The order things happen in, one module each:

``metadata``     read Salesforce describe and Dataverse EntityDefinitions JSON into plain fields
``live``         fetch that metadata (and sampled records) from the org and the environment
``profiles``     what sampled values look like (emails, phones, URLs, dates ...)
``dictionary``   curated Salesforce ↔ Dataverse correspondences, each with its source
``similarity``   name, label, type, unit and subject evidence for one field/column pair
``matcher``      score every candidate column for every source field and decide, with evidence
``choices``      propose a choice (picklist) value map from labels, flagging unmatched values
``propose``      run the matcher over the object pairs; write ``<out>.proposal.json``
``mapping_file`` turn the proposal into a mapping file the mapping loader accepts
``review``       show the proposal in the terminal and as a static HTML page
``gate``         record who confirmed which bytes; refuse a run on anything else
``assistant``    optional language-model second opinion on low-confidence fields (off by default)
``accuracy``     score proposals against a labelled set (docs/mapping-accuracy.md)
``command``      the ``propose-map``, ``review`` and ``confirm-map`` subcommands
"""
