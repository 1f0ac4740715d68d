"""Build labels/written/<prefix>-NN.json from <prefix>_spec.py (run: python make_labels.py wa|wb|wc|wd|we):
offsets by unique anchors so text == note[start:end]; the six statuses and the recommendation from the flags by
SPEC's rules, in one place for every writer's notes."""
import importlib, json, sys, pathlib
ROOT = pathlib.Path(__file__).resolve().parent
FL = {'n': 'negated', 'h': 'historical', 'y': 'hypothetical', 'f': 'family', 'u': 'uncertain'}
IDS = ['recurrence_vs_treatment_effect', 'tumor_vs_nontumor', 'glioma_grading', 'epilepsy', 'neurodegenerative', 'stroke']
DOC = ['clinician', 'office_visit_note', 'prior_imaging', 'labs_or_special_testing', 'alternative_imaging_reason']

def ok(f, excl):
    return not any(f[FL[c]] for c in excl)

def statuses(fs):
    by = lambda *cs: [f for f in fs if f['concept'] in cs]
    a = any(ok(f, 'nfy') for f in by('BRAIN_TUMOR'))
    b = any(ok(f, 'nfy') for f in by('PRIOR_RADIATION', 'PRIOR_SURGERY'))
    cur_lesion = any(ok(f, 'nhfy') for f in by('BRAIN_LESION'))
    c = any(ok(f, 'nf') for f in by('TUMOR_RECURRENCE', 'TREATMENT_EFFECT')) or cur_lesion
    n = a + b + c
    rec = 'supported' if n == 3 else 'partial' if n == 2 else 'not_found'
    tb = any(ok(f, 'nf') for f in by('BRAIN_TUMOR'))
    inf = any(ok(f, 'nf') for f in by('ABSCESS', 'INFECTION', 'INFLAMMATORY'))
    tvn = 'supported' if cur_lesion and tb and inf else 'partial' if cur_lesion and (tb or inf) else 'not_found'
    exp = {k: ('present' if any(ok(f, 'nfy') for f in by(c)) else 'not_found') for k, c in
           [('glioma_grading', 'GLIOMA_GRADING'), ('epilepsy', 'EPILEPSY'), ('neurodegenerative', 'NEURODEGENERATIVE'), ('stroke', 'STROKE')]}
    st = {'recurrence_vs_treatment_effect': rec, 'tumor_vs_nontumor': tvn, **exp}
    if 'supported' in (rec, tvn):
        r = 'likely_meets_criteria'
    elif 'present' in exp.values():
        r = 'experimental_investigational'
    else:
        r = 'needs_clinical_review'
    return st, r

def main(prefix):
    notes = importlib.import_module(f'{prefix}_spec').NOTES
    for nn, (desc, docs, items) in notes.items():
        name = f'{prefix}-{nn}.txt'
        note = (ROOT / 'notes' / name).read_text(encoding='utf-8')
        fs = []
        for concept, text, anchor, flags in items:
            anchor = anchor or text
            cnt = note.count(anchor)
            assert cnt == 1, (nn, anchor, cnt)
            assert text in anchor, (nn, text, anchor)
            s = note.index(anchor) + anchor.index(text)
            f = {'concept': concept, 'text': text, 'document': name, 'start': s, 'end': s + len(text)}
            for c, k in FL.items():
                f[k] = c in flags
            assert note[f['start']:f['end']] == text
            fs.append(f)
        fs.sort(key=lambda f: f['start'])
        for x, y in zip(fs, fs[1:]):
            assert x['end'] <= y['start'], (nn, x['text'], y['text'])
        st, r = statuses(fs)
        out = {'case_id': f'{prefix}-{nn}', 'path': name, 'split': 'written', 'description': desc,
               'request_date': '2026-03-12', 'recommendation': r,
               'indications': [{'id': i, 'status': st[i]} for i in IDS], 'findings': fs,
               'documentation': [{'id': d, 'status': 'present' if c == 'p' else 'missing'} for d, c in zip(DOC, docs)]}
        (ROOT / f'{prefix}-{nn}.json').write_text(json.dumps(out, indent=2, ensure_ascii=False) + '\n', encoding='utf-8')
        print(nn, r, st, len(fs))


if __name__ == '__main__':
    main(sys.argv[1].rstrip('-_'))
