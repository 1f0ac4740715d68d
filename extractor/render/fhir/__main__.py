"""python -m extractor.render.fhir: regenerate (or --check) the shipped Questionnaires."""

import sys

from .questionnaire import main

sys.exit(main())
