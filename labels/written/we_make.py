"""Build labels/written/we-NN.json from we_spec.py (run: python we_make.py): offsets by unique anchors, so text == note[start:end]; statuses from the flags by SPEC rules."""
import json, pathlib
FL = {'n': 'negated', 'h': 'historical', 'y': 'hypothetical', 'f': 'family', 'u': 'uncertain'}
IDS = ['recurrence_vs_treatment_effect', 'tumor_vs_nontumor', 'glioma_grading', 'epilepsy', 'neurodegenerative', 'stroke']
DOC = ['clinician', 'office_visit_note', 'prior_imaging', 'labs_or_special_testing', 'alternative_imaging_reason']
def ok(f, excl): return not any(f[FL[c]] for c in excl)
def statuses(fs):
    by = lambda *cs: [f for f in fs if f['concept'] in cs]
    a = any(ok(f, 'nfy') for f in by('BRAIN_TUMOR'))
    b = any(ok(f, 'nfy') for f in by('PRIOR_RADIATION', 'PRIOR_SURGERY'))
    cur = any(ok(f, 'nhfy') for f in by('BRAIN_LESION'))
    c = any(ok(f, 'nf') for f in by('TUMOR_RECURRENCE', 'TREATMENT_EFFECT')) or cur
    n = a + b + c
    rec = 'supported' if n == 3 else 'partial' if n == 2 else 'not_found'
    tb = any(ok(f, 'nf') for f in by('BRAIN_TUMOR'))
    inf = any(ok(f, 'nf') for f in by('ABSCESS', 'INFECTION', 'INFLAMMATORY'))
    tvn = 'supported' if cur and tb and inf else 'partial' if cur and (tb or inf) else 'not_found'
    exp = {k: ('present' if any(ok(f, 'nfy') for f in by(c)) else 'not_found') for k, c in
           [('glioma_grading', 'GLIOMA_GRADING'), ('epilepsy', 'EPILEPSY'), ('neurodegenerative', 'NEURODEGENERATIVE'), ('stroke', 'STROKE')]}
    st = {'recurrence_vs_treatment_effect': rec, 'tumor_vs_nontumor': tvn, **exp}
    r = 'likely_meets_criteria' if 'supported' in (rec, tvn) else 'experimental_investigational' if 'present' in exp.values() else 'needs_clinical_review'
    return st, r
def build(case_id, path, split, notefile, desc, docs, items, out):
    note = pathlib.Path(notefile).read_text(encoding='utf-8')
    name = pathlib.Path(notefile).name
    fs = []
    for concept, text, anchor, flags in items:
        anchor = anchor or text
        cnt = note.count(anchor)
        assert cnt == 1, (case_id, anchor, cnt)
        assert text in anchor, (case_id, text, anchor)
        s = note.index(anchor) + anchor.index(text)
        f = {'concept': concept, 'text': text, 'document': name, 'start': s, 'end': s + len(text)}
        for c, k in FL.items(): f[k] = c in flags
        assert note[f['start']:f['end']] == text
        fs.append(f)
    fs.sort(key=lambda f: f['start'])
    for x, y in zip(fs, fs[1:]): assert x['end'] <= y['start'], (case_id, x['text'], y['text'])
    st, r = statuses(fs)
    d = {'case_id': case_id, 'path': path, 'split': split, 'description': desc, 'request_date': '2026-03-12',
         'recommendation': r, 'indications': [{'id': i, 'status': st[i]} for i in IDS], 'findings': fs,
         'documentation': [{'id': k, 'status': 'present' if c == 'p' else 'missing'} for k, c in zip(DOC, docs)]}
    return d, st, r
def dump_compact(d):
    j = lambda x: json.dumps(x, ensure_ascii=False)
    lines = ['{']
    for k in ['case_id', 'path', 'split', 'description', 'request_date', 'recommendation']:
        lines.append(f'  {j(k)}: {j(d[k])},')
    for k, last in [('indications', False), ('findings', False), ('documentation', True)]:
        items = d[k]
        lines.append(f'  {j(k)}: [')
        lines += ['    ' + j(x) + (',' if i < len(items) - 1 else '') for i, x in enumerate(items)]
        lines.append('  ]' + ('' if last else ','))
    lines.append('}')
    return '\n'.join(lines) + '\n'

if __name__ == '__main__':
    from we_spec import NOTES
    root = pathlib.Path(__file__).resolve().parent
    for nn, (desc, docs, items) in NOTES.items():
        d, st, r = build(f'we-{nn}', f'we-{nn}.txt', 'written', root / 'notes' / f'we-{nn}.txt', desc, docs, items, None)
        (root / f'we-{nn}.json').write_text(json.dumps(d, indent=2, ensure_ascii=False) + '\n', encoding='utf-8')
        print(nn, r, st, len(d['findings']))
