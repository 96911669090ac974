"""Small templates, each exercising one construct of the Jinja2 subset that ChatTemplate implements.

Every entry is (name, template, context). make_chat_template_goldens.py renders them in the environment
transformers builds for chat templates (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, its own tojson, raise_exception, strftime_now, namespace, dict) and records the output, or
the error when jinja2 raises. Contexts are plain JSON values.
"""

MESSAGES = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "hello"},
    {"role": "user", "content": "bye"},
]

UNITS = [
    # Text, comments, raw.
    ("text only", "plain text", {}),
    ("empty template", "", {}),
    ("one trailing newline is dropped", "a\n", {}),
    ("two trailing newlines keep one", "a\n\n", {}),
    ("crlf becomes lf", "a\r\nb\rc\n", {}),
    ("crlf inside a string literal", "{{ 'x\r\ny' }}", {}),
    ("comment", "a{# gone #}b", {}),
    ("multiline comment", "a{# one\ntwo #}b", {}),
    ("comment with tags inside", "a{# {{ x }} {% if %} #}b", {}),
    ("raw block", "{% raw %}{{ not evaluated }}{% if %}{% endraw %}", {}),
    ("raw keeps newline after start", "{% raw %}\nx\n{% endraw %}\ny", {}),
    ("raw with minus", "a  {%- raw -%}  x  {%- endraw -%}  b", {}),
    ("raw lstrip", "a\n  {% raw %}x{% endraw %}\nb", {}),
    ("lone braces", "{ } { x } }} %} #}", {}),
    ("brace then percent in text", "100% {x}", {}),

    # Whitespace control: trim_blocks, lstrip_blocks, minus and plus.
    ("trim_blocks after block", "{% if true %}\nx\n{% endif %}\ny", {}),
    ("trim_blocks only one newline", "{% if true %}\n\nx{% endif %}", {}),
    ("trim_blocks not after variable", "{{ 'a' }}\n{{ 'b' }}\n", {}),
    ("trim_blocks after comment", "a{# c #}\nb", {}),
    ("trim_blocks with crlf", "{% if true %}\r\nx\r\n{% endif %}\r\ny", {}),
    ("lstrip_blocks indented block", "a\n    {% if true %}\n    b\n    {% endif %}\nc", {}),
    ("lstrip_blocks tabs", "a\n\t\t{% if true %}b{% endif %}", {}),
    ("lstrip_blocks not for variables", "a\n    {{ 'b' }}\n", {}),
    ("lstrip_blocks text before tag", "a\n  x {% if true %}b{% endif %}", {}),
    ("lstrip_blocks at template start", "   {% if true %}x{% endif %}", {}),
    ("lstrip_blocks after block on same line", "{% if true %}  {% if true %}x{% endif %}{% endif %}", {}),
    ("lstrip_blocks after variable on same line", "{{ 'v' }}  {% if true %}x{% endif %}", {}),
    ("lstrip_blocks comment", "a\n   {# c #}\nb", {}),
    ("lstrip_blocks nbsp is whitespace", "a\n\u00a0 {% if true %}x{% endif %}", {}),
    ("lstrip then trim leaves nothing", "<\n  {% for x in [1, 2] %}\n  {{ x }}\n  {% endfor %}\n>", {}),
    ("minus strips before", "a   \n  {{- 'b' }}", {}),
    ("minus strips after", "{{ 'a' -}}   \n  b", {}),
    ("minus on blocks", "a \n {%- if true -%} \n b \n {%- endif -%} \n c", {}),
    ("minus on comment", "a  {#- c -#}  b", {}),
    ("minus all around", "a   {{- 'b' -}}   c  {%- if true -%}  d  {%- endif %}", {}),
    ("plus disables lstrip", "a\n    {%+ if true %}b{% endif %}", {}),
    ("plus disables trim", "{% if true +%}\nb{% endif %}", {}),
    ("plus on variable start", "x  {{+ 'y' }}", {}),
    ("minus then lstrip", "a\n  {%- if true %}b{% endif %}", {}),
    ("minus end eats newlines", "{% if true -%}\n\n\n  x{% endif %}", {}),
    ("line starting after minus end", "{% if true -%}  \n  {% if true %}x{% endif %}{% endif %}", {}),
    ("block end followed by spaces then tag", "{% if true %}   \n  {% endif %}z", {}),
    ("deepseek style layout", "{% for m in ['a', 'b'] %}\n    {%- if m == 'a' %}\n{{ m }}\n    {%- else %}\n{{ m + '!' }}\n    {%- endif %}\n{%- endfor %}\n", {}),
    ("falcon style layout", "{% for m in ['a', 'b'] %}\n{% if m == 'a' %}\n{{ 'A: \n' + m }}\n{% endif %}\n{% if loop.last %}\n{{ 'END' }}\n{% endif %}\n{% endfor %}", {}),

    # Literals and printing.
    ("none and bools", "{{ none }} {{ None }} {{ true }} {{ True }} {{ false }} {{ False }}", {}),
    ("integers", "{{ 0 }} {{ 42 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }}", {}),
    ("floats", "{{ 1.0 }} {{ 1.5 }} {{ 0.1 }} {{ 1e3 }} {{ 2.5e-3 }} {{ 1_0.2_5 }} {{ 1E2 }}", {}),
    ("float repr", "{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 123456789.123456789 }} {{ 1 / 3 }} {{ -0.0 }}", {}),
    ("big float repr", "{{ 1e22 }} {{ 1.5e300 * 10 }} {{ 2 ** 0.5 }} {{ 10 / 4 }} {{ 3.0 * 2 }}", {}),
    ("string escapes", "{{ 'a\\nb\\tc\\\\d\\'e\\\"f' }}", {}),
    ("double quoted string", "{{ \"it's\" }}|{{ \"say \\\"hi\\\"\" }}", {}),
    ("unicode escapes", "{{ '\\u00e9\\x41\\U0001F600\\101' }}", {}),
    ("unknown escape kept", "{{ '\\d\\q' }}", {}),
    ("adjacent strings concatenate", "{{ 'a' 'b' \"c\" }}", {}),
    ("real newline inside string", "{{ 'a\nb' }}", {}),
    ("non-ascii literal", "{{ 'héllo wörld ✓ 🙂' }}", {}),
    ("lists", "{{ [] }} {{ [1, 'a', none, true, 1.5] }} {{ [[1], [2, [3]]] }} {{ [1, 2,] }}", {}),
    ("tuples", "{{ (1, 2) }} {{ (1,) }} {{ () }} {{ ('a', none) }}", {}),
    ("dicts", "{{ {} }} {{ {'a': 1, 'b': [true, none]} }} {{ {'k': {'n': 'v'}} }}", {}),
    ("dict with int key", "{{ {1: 'one', 'two': 2} }}", {}),
    ("repr of strings", "{{ ['it\\'s', 'say \"x\"', 'both \\' \"', 'back\\\\slash', 'nl\\n', 'tab\\t', '\\x01', 'é', '\\u200b', '\\x7f'] }}", {}),
    ("print context values", "{{ s }}|{{ i }}|{{ f }}|{{ b }}|{{ n }}|{{ l }}|{{ d }}", {"s": "str", "i": 7, "f": 2.5, "b": True, "n": None, "l": [1, "x"], "d": {"z": 1, "a": [None]}}),
    ("print statement", "{% print 'a' %}{% print 1, 2 %}", {}),
    ("tuple output", "{{ 1, 'a' }}", {}),

    # Variables and undefined.
    ("undefined prints nothing", "[{{ missing }}]", {}),
    ("undefined attribute errors", "{{ missing.attr }}", {}),
    ("undefined item errors", "{{ missing['k'] }}", {}),
    ("undefined call errors", "{{ missing() }}", {}),
    ("undefined arithmetic errors", "{{ missing + 1 }}", {}),
    ("undefined concat is empty", "[{{ missing ~ 'x' }}]", {}),
    ("undefined in if is false", "{% if missing %}t{% else %}f{% endif %}", {}),
    ("undefined iteration is empty", "{% for x in missing %}x{% else %}empty{% endfor %}", {}),
    ("undefined length is zero", "{{ missing | length }}", {}),
    ("undefined compares unequal", "{{ missing == none }} {{ missing != 1 }} {{ missing == missing2 }}", {}),
    ("undefined is not none", "{{ missing is none }} {{ missing is defined }} {{ missing is undefined }}", {}),
    ("undefined string filter", "[{{ missing | string }}][{{ missing | trim }}][{{ missing | upper }}]", {}),
    ("undefined less than errors", "{{ missing < 1 }}", {}),
    ("undefined in list", "{{ missing in [1] }}", {}),
    ("undefined tojson errors", "{{ missing | tojson }}", {}),
    ("missing dict key is undefined", "[{{ d.nope }}][{{ d['nope'] }}][{{ d.nope is defined }}]", {"d": {"k": 1}}),
    ("attribute of missing key errors", "{{ d.nope.deeper }}", {"d": {"k": 1}}),
    ("missing index is undefined", "[{{ l[5] }}][{{ l[-9] }}]", {"l": [1, 2]}),
    ("attribute of none is undefined", "[{{ n.attr }}][{{ n.attr is defined }}]", {"n": None}),
    ("attribute of string is undefined", "[{{ 'abc'.nope }}]", {}),
    ("item of int errors", "{{ (5)[0] }}", {}),
    ("name error message", "{{ x.y }}", {}),
    ("defined checks", "{{ x is defined }} {{ y is defined }} {{ y is not defined }} {{ x.k is defined }}", {"x": {"k": None}}),
    ("conditional without else is undefined", "[{{ 'a' if false }}]", {}),

    # Attribute and item access.
    ("subscript and attribute", "{{ m['role'] }} {{ m.role }} {{ m.content }}", {"m": {"role": "user", "content": "c"}}),
    ("negative index", "{{ l[-1] }} {{ l[-2] }}", {"l": [1, 2, 3]}),
    ("numeric attribute is item", "{{ l.0 }} {{ l.1 }}", {"l": ["a", "b"]}),
    ("string index", "{{ 'hello'[1] }} {{ 'hello'[-1] }}", {}),
    ("dict method shadows key", "{{ d['items'] }} {{ d.get('items') }}", {"d": {"items": "value"}}),
    ("nested access", "{{ a.b[0].c }}", {"a": {"b": [{"c": "deep"}]}}),
    ("dotted item with tuple key", "{{ d[1, 2] is defined }}", {"d": {}}),

    # Slicing.
    ("slices", "{{ l[1:] }} {{ l[:2] }} {{ l[1:3] }} {{ l[:] }} {{ l[-2:] }} {{ l[:-1] }}", {"l": [1, 2, 3, 4]}),
    ("slice steps", "{{ l[::-1] }} {{ l[::2] }} {{ l[1::2] }} {{ l[-1:0:-1] }} {{ l[:-2:-1] }} {{ l[5:1:-2] }}", {"l": [1, 2, 3, 4, 5]}),
    ("string slices", "{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'héllo'[:2] }} {{ 'abc'[10:] }}", {}),
    ("slice out of range", "{{ l[10:20] }} {{ l[-10:1] }}", {"l": [1, 2]}),
    ("slice with zero step errors", "{{ l[::0] }}", {"l": [1, 2]}),
    ("messages slice", "{% for m in messages[1:] %}{{ m.role }},{% endfor %}", {"messages": MESSAGES}),
    ("tuple slice", "{{ (1, 2, 3)[1:] }}", {}),

    # Arithmetic.
    ("integer arithmetic", "{{ 1 + 2 }} {{ 7 - 10 }} {{ 3 * 4 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }}", {}),
    ("true division", "{{ 7 / 2 }} {{ 6 / 2 }} {{ -1 / 4 }}", {}),
    ("float arithmetic", "{{ 1.5 + 1 }} {{ 2.5 * 2 }} {{ 7.5 // 2 }} {{ -7.5 // 2 }} {{ 7.5 % 2 }} {{ -7.5 % 2 }} {{ 2 ** -1 }} {{ 2.0 ** 3 }}", {}),
    ("bool arithmetic", "{{ true + 1 }} {{ true + true }} {{ false * 3 }}", {}),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 2 - 3 }} {{ 2 * 3 % 4 }}", {}),
    ("unary", "{{ -5 }} {{ +5 }} {{ -(-5) }} {{ - 1.5 }} {{ -x }}", {"x": 3}),
    ("unary binds to filters", "{{ -5 | abs }} {{ -x | string }}", {"x": 3}),
    ("string concatenation", "{{ 'a' + 'b' }} {{ 'ab' * 3 }} {{ 2 * 'x' }}", {}),
    ("list concatenation", "{{ [1] + [2, 3] }} {{ [0] * 3 }} {{ (1,) + (2,) }}", {}),
    ("string plus int errors", "{{ 'a' + 1 }}", {}),
    ("division by zero errors", "{{ 1 / 0 }}", {}),
    ("floor division by zero errors", "{{ 1 // 0 }}", {}),
    ("modulo by zero errors", "{{ 1 % 0 }}", {}),
    ("tilde concatenation", "{{ 'n=' ~ 3 ~ true ~ none ~ [1] ~ 1.5 }}", {}),
    ("tilde precedence", "{{ 1 + 2 ~ 3 * 2 }}", {}),

    # Comparisons and logic.
    ("comparisons", "{{ 1 < 2 }}{{ 2 <= 1 }}{{ 'a' == 'a' }}{{ 'a' != 'a' }}{{ 3 > 2 }}{{ 1 >= 1 }}{{ 1 == 1.0 }}{{ true == 1 }}", {}),
    ("chained comparison", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 3 > 2 == 2 }}", {}),
    ("string ordering", "{{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ 'ab' < 'abc' }} {{ 'é' > 'z' }}", {}),
    ("list comparison", "{{ [1, 2] == [1, 2] }} {{ [1, 2] < [1, 3] }} {{ [1] == (1,) }} {{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }}", {}),
    ("mixed comparison errors", "{{ 1 < 'a' }}", {}),
    ("none equality", "{{ none == none }} {{ none == false }} {{ 0 == false }} {{ '' == none }}", {}),
    ("and or return operands", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }} {{ none or [] }} {{ 1 and 0 }}", {}),
    ("not", "{{ not true }} {{ not 0 }} {{ not [] }} {{ not 'a' }} {{ not (1 == 2) }}", {}),
    ("not binds looser than compare", "{{ not 1 == 2 }} {{ not x is defined }}", {}),
    ("and binds tighter than or", "{{ true or false and false }} {{ (true or false) and false }}", {}),
    ("in operator", "{{ 'b' in 'abc' }}{{ 2 in [1, 2] }}{{ 'k' in d }}{{ 'q' not in d }}{{ 'v' in d }}{{ 1 in (1, 2) }}{{ '' in 'x' }}", {"d": {"k": "v"}}),
    ("in with int and string errors", "{{ 1 in 'abc' }}", {}),
    ("truthiness", "{% for v in [0, 1, '', 'a', [], [0], {}, {'a': 1}, none, 0.0, 0.5] %}{{ 'T' if v else 'F' }}{% endfor %}", {}),
    ("conditional expression", "{{ 'yes' if flag else 'no' }} {{ 'a' if 0 else 'b' if 1 else 'c' }}", {"flag": True}),
    ("conditional expression precedence", "{{ 1 + 1 if true else 2 }} {{ 'x' ~ 'y' if false else 'z' }}", {}),

    # Tests.
    ("type tests", "{{ 's' is string }}{{ 1 is string }}{{ 1 is number }}{{ 1.5 is number }}{{ true is number }}{{ 1 is integer }}{{ true is integer }}{{ 1.5 is float }}{{ true is boolean }}{{ 1 is boolean }}", {}),
    ("container tests", "{{ {} is mapping }}{{ [] is mapping }}{{ [] is sequence }}{{ 's' is sequence }}{{ {} is sequence }}{{ 1 is sequence }}{{ [] is iterable }}{{ 's' is iterable }}{{ {} is iterable }}{{ 1 is iterable }}{{ none is iterable }}", {}),
    ("none tests", "{{ none is none }}{{ 0 is none }}{{ x is none }}{{ x is not none }}", {"x": None}),
    ("true false tests", "{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 0 is false }}{{ none is false }}", {}),
    ("even odd divisibleby", "{{ 2 is even }}{{ 3 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}", {}),
    ("comparison tests", "{{ 1 is eq 1 }}{{ 1 is equalto 2 }}{{ 1 is ne 2 }}{{ 1 is lt 2 }}{{ 2 is gt 1 }}{{ 1 is le 1 }}{{ 1 is ge 2 }}{{ 1 is greaterthan 0 }}{{ 1 is lessthan 0 }}{{ 2 is in [1, 2] }}", {}),
    ("case tests", "{{ 'abc' is lower }}{{ 'aBc' is lower }}{{ 'ABC' is upper }}{{ '1' is lower }}", {}),
    ("callable test", "{{ range is callable }}{{ 'a' is callable }}{{ 'a'.upper is callable }}{{ namespace is callable }}", {}),
    ("sameas test", "{{ none is sameas none }}{{ true is sameas true }}{{ 1 is sameas true }}", {}),
    ("test with not", "{{ 1 is not string }} {{ 'a' is not string }}", {}),
    ("content is mapping or iterable", "{% for c in ['s', {'a': 1}, [1], 5] %}{{ c is mapping or c is iterable }}{% endfor %}", {}),
    ("unknown test is a syntax error", "{{ 1 is frobnicated }}", {}),
    ("filter and test exist", "{{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'even' is test }} {{ 'nope' is test }}", {}),
    ("even on string errors", "{{ 'a' is even }}", {}),

    # If statements.
    ("if elif else", "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %},{% endfor %}", {}),
    ("nested if", "{% if a %}{% if b %}ab{% else %}a{% endif %}{% endif %}", {"a": True, "b": False}),
    ("if with tuple test", "{% if 1, 2 %}t{% endif %}", {}),
    ("elif chain", "{% if x == 1 %}1{% elif x == 2 %}2{% elif x == 3 %}3{% endif %}", {"x": 3}),
    ("unclosed if is a syntax error", "{% if true %}x", {}),
    ("endfor for if is a syntax error", "{% if true %}x{% endfor %}", {}),

    # For loops.
    ("for loop variables", "{% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", {"items": ["a", "b", "c"]}),
    ("for loop neighbours", "{% for x in [1, 2, 3] %}[{{ loop.previtem }}|{{ loop.nextitem }}|{{ loop.previtem is defined }}]{% endfor %}", {}),
    ("for loop depth and cycle", "{% for x in [1, 2, 3] %}{{ loop.depth }}{{ loop.depth0 }}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
    ("loop changed", "{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}", {}),
    ("for else", "{% for x in [] %}x{% else %}empty{% endfor %}", {}),
    ("for else not taken", "{% for x in [1] %}x{% else %}empty{% endfor %}", {}),
    ("for with condition", "{% for x in [1, 2, 3, 4] if x % 2 == 0 %}{{ loop.index }}:{{ x }}/{{ loop.length }}{% if not loop.last %},{% endif %}{% endfor %}", {}),
    ("for with condition filtering all", "{% for x in [1, 3] if x % 2 == 0 %}{{ x }}{% else %}none{% endfor %}", {}),
    ("for over dict", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("for over items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"x": 1, "y": "z"}}),
    ("for over items filter", "{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %}", {"d": {"x": 1, "y": "z"}}),
    ("for over string", "{% for c in 'héy' %}[{{ c }}]{% endfor %}", {}),
    ("for unpacking lists", "{% for a, b in [[1, 2], [3, 4]] %}{{ a }}{{ b }}{% endfor %}", {}),
    ("for unpacking mismatch errors", "{% for a, b in [[1, 2, 3]] %}{{ a }}{% endfor %}", {}),
    ("for nested unpacking", "{% for (a, b), c in [[[1, 2], 3]] %}{{ a }}{{ b }}{{ c }}{% endfor %}", {}),
    ("nested loops", "{% for i in [1, 2] %}{% for j in 'ab' %}{{ i }}{{ j }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}", {}),
    ("outer loop via set", "{% for i in [1, 2] %}{% set outer = loop %}{% for j in [1] %}{{ outer.index }}{{ loop.index }}{% endfor %}{% endfor %}", {}),
    ("break continue", "{% for n in [1, 2, 3, 4] %}{% if n == 2 %}{% continue %}{% endif %}{% if n == 4 %}{% break %}{% endif %}{{ n }}{% endfor %}", {}),
    ("break skips else", "{% for n in [1] %}{% break %}{% else %}else{% endfor %}done", {}),
    ("break outside loop is a syntax error", "{% break %}", {}),
    ("loop undefined outside loop", "[{{ loop }}]", {}),
    ("loop variable does not leak", "{% for x in [1, 2] %}{% endfor %}[{{ x }}]", {}),
    ("iterate over int errors", "{% for x in 5 %}{{ x }}{% endfor %}", {}),
    ("recursive loop", "{% for n in tree recursive %}<{{ n.name }}{{ loop.depth }}{% if n.children %}[{{ loop(n.children) }}]{% endif %}>{% endfor %}", {"tree": [{"name": "a", "children": [{"name": "b", "children": []}, {"name": "c"}]}, {"name": "d"}]}),
    ("continue keeps else armed", "{% for n in [1, 2] %}{% if n == 2 %}{% continue %}{% endif %}{{ n }}{% else %}else{% endfor %}", {}),
    ("continue in first only", "{% for n in [1, 2] %}{% if n == 1 %}{% continue %}{% endif %}{{ n }}{% else %}else{% endfor %}", {}),
    ("for target shadows and restores", "{% set x = 'outer' %}{% for x in [1, 2] %}{{ x }}{% endfor %}{{ x }}", {}),
    ("loop over messages", "{% for m in messages %}{{ loop.index0 }}{{ m['role'][0] }}{% endfor %}", {"messages": MESSAGES}),
    ("loop over reversed messages", "{% for m in messages[::-1] %}{{ m.role }},{% endfor %}", {"messages": MESSAGES}),

    # Set and scoping.
    ("set at top level", "{% set a = 1 %}{{ a }}", {}),
    ("set tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}", {}),
    ("set from list unpacking", "{% set a, b = [3, 4] %}{{ a }}{{ b }}", {}),
    ("set inside if leaks", "{% if true %}{% set b = 3 %}{% endif %}{{ b }}", {}),
    ("set inside for does not leak", "{% set a = 1 %}{% for x in [1] %}{% set a = 2 %}{{ a }}{% endfor %}{{ a }}", {}),
    ("set inside for is per iteration", "{% set a = 0 %}{% for i in range(3) %}{{ a }}{% set a = a + 1 %}{{ a }};{% endfor %}{{ a }}", {}),
    ("set in one iteration not seen in the next", "{% for i in range(3) %}{% if i == 0 %}{% set b = 5 %}{% endif %}[{{ b }}]{% endfor %}", {}),
    ("nested loop set does not leak", "{% for i in range(2) %}{% for j in range(2) %}{% set k = i %}{% endfor %}[{{ k }}]{% endfor %}", {}),
    ("set overrides context", "{% set messages = messages[1:] %}{{ messages | length }}", {"messages": MESSAGES}),
    ("set in loop does not affect loop iterable", "{% for m in messages %}{% set messages = [] %}{{ loop.length }}{% endfor %}{{ messages | length }}", {"messages": MESSAGES}),
    ("set block", "{% set body %}a{{ 1 + 1 }}b{% endset %}[{{ body }}]", {}),
    ("set block with filter", "{% set body | upper %}abc{% endset %}{{ body }}", {}),
    ("set block trims", "{% set body %}\n  x\n{% endset %}[{{ body }}]", {}),
    ("namespace", "{% set ns = namespace(total=0, seen=false) %}{% for x in [1, 2, 3] %}{% set ns.total = ns.total + x %}{% if x == 2 %}{% set ns.seen = true %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.seen }}", {}),
    ("namespace attribute added later", "{% set ns = namespace() %}{% set ns.a = 'x' %}{{ ns.a }}[{{ ns.b }}]", {}),
    ("namespace from dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}", {}),
    ("namespace printed", "{{ namespace(a=1) }}", {}),
    ("namespace item access", "{% set ns = namespace(a=1) %}{{ ns['a'] }}", {}),
    ("namespace underscore is rejected", "{% set ns = namespace() %}{% set ns._hidden = 1 %}", {}),
    ("set attribute of non namespace errors", "{% set d = {'a': 1} %}{% set d.a = 2 %}{{ d.a }}", {}),
    ("set attribute of undefined errors", "{% set nothing.a = 2 %}", {}),
    ("with block", "{% set a = 1 %}{% with a = 2, b = 3 %}{{ a }}{{ b }}{% endwith %}{{ a }}[{{ b }}]", {}),

    # Macros, call, filter blocks.
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }} {{ greet(name='Cy', punct='.') }}", {}),
    ("macro missing argument is undefined", "{% macro m(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ m(1) }}", {}),
    ("macro too many arguments errors", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", {}),
    ("macro varargs kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}", {}),
    ("macro reads context at call time", "{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}", {}),
    ("macro scope does not leak", "{% macro m() %}{% set y = 5 %}{{ y }}{% endmacro %}{{ m() }}[{{ y }}]", {}),
    ("macro recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("macro output with trim", "{% macro m() %}\n  x\n{% endmacro %}[{{ m() }}]", {}),
    ("call block", "{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %}", {}),
    ("call block with args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}[{{ item }}]{% endcall %}", {}),
    ("filter block", "{% filter upper %}abc {{ 'def' }}{% endfilter %}", {}),
    ("filter block chain", "{% filter trim | upper %}  abc  {% endfilter %}", {}),
    ("generation block", "a{% generation %}b{{ 'c' }}{% endgeneration %}d", {}),

    # Filters.
    ("trim", "[{{ '  x  ' | trim }}][{{ '\\n\\t x \\n' | trim }}][{{ 'xxaxx' | trim('x') }}]", {}),
    ("case filters", "{{ 'Ab' | upper }} {{ 'Ab' | lower }} {{ 'hello wORLD' | capitalize }} {{ \"they're bill's-friend (hi) [x] {y} <z>\" | title }}", {}),
    ("length and count", "{{ [1, 2] | length }} {{ 'héllo' | length }} {{ {'a': 1} | length }} {{ [1, 2, 3] | count }} {{ 'e\u0301' | length }}", {}),
    ("first and last", "{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ 'abc' | first }} {{ 'abc' | last }} [{{ [] | first }}]", {}),
    ("join", "{{ [1, 2, 3] | join }} {{ ['a', 'b'] | join(', ') }} {{ [{'n': 'x'}, {'n': 'y'}] | join('-', attribute='n') }} {{ 'abc' | join('.') }}", {}),
    ("default", "{{ missing | default('d') }} {{ none | default('d') }} {{ none | default('d', true) }} {{ '' | d('e', true) }} {{ 0 | d(5) }} {{ false | default('f', boolean=true) }}", {}),
    ("string and list filters", "{{ 5 | string }} {{ none | string }} {{ 'ab' | list }} {{ {'a': 1, 'b': 2} | list }} {{ (1, 2) | list }}", {}),
    ("int filter", "{{ '42' | int }} {{ '3.7' | int }} {{ 3.9 | int }} {{ -3.9 | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ true | int }} {{ none | int }} {{ '0x1A' | int(0, 16) }} {{ ' 12 ' | int }}", {}),
    ("float filter", "{{ '1.5' | float }} {{ 2 | float }} {{ 'x' | float }} {{ 'x' | float(1.5) }} {{ '1e3' | float }}", {}),
    ("round", "{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(0, 'floor') }} {{ 5 | round }} {{ -2.5 | round }} {{ 1234.5678 | round(2) }}", {}),
    ("abs", "{{ -3 | abs }} {{ -2.5 | abs }} {{ 4 | abs }}", {}),
    ("replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'abc' | replace('', '-') }} {{ 'héllo' | replace('é', 'e') }}", {}),
    ("indent", "[{{ 'a\\nb\\n\\nc' | indent }}][{{ 'a\\nb' | indent(2, true) }}][{{ 'a\\n\\nb' | indent(2, blank=true) }}][{{ 'a\\nb' | indent('> ') }}]", {}),
    ("items filter", "{% for k, v in {'a': 1, 'b': 2} | items %}{{ k }}{{ v }}{% endfor %}", {}),
    ("items of undefined is empty", "{% for k, v in missing | items %}x{% endfor %}ok", {}),
    ("items of list errors", "{{ [1] | items | list }}", {}),
    ("selectattr equalto", "{{ msgs | selectattr('role', 'equalto', 'user') | list | length }} {{ (msgs | selectattr('role', 'equalto', 'user') | list)[-1].content }}", {"msgs": MESSAGES}),
    ("selectattr truthy", "{% for i in items | selectattr('on') %}{{ i.n }}{% endfor %}", {"items": [{"n": 1, "on": True}, {"n": 2, "on": False}, {"n": 3}]}),
    ("selectattr defined", "{{ items | selectattr('on', 'defined') | map(attribute='n') | list }}", {"items": [{"n": 1, "on": True}, {"n": 2, "on": False}, {"n": 3}]}),
    ("rejectattr", "{{ msgs | rejectattr('role', 'equalto', 'system') | map(attribute='content') | join(',') }}", {"msgs": MESSAGES}),
    ("select reject", "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ [1, 5, 9] | select('gt', 4) | list }}", {}),
    ("reject equalto join", "{{ ['a', 'code_interpreter', 'b'] | reject('equalto', 'code_interpreter') | join(', ') }}", {}),
    ("map", "{{ ['a', 'b'] | map('upper') | list }} {{ msgs | map(attribute='role') | list }} {{ [{'a': 1}, {}] | map(attribute='a', default=0) | list }} {{ ['1', '2'] | map('int') | sum }}", {"msgs": MESSAGES}),
    ("map dotted attribute", "{{ items | map(attribute='f.name') | list }}", {"items": [{"f": {"name": "x"}}, {"f": {"name": "y"}}]}),
    ("generator printed length errors", "{{ [1, 2] | select('odd') | length }}", {}),
    ("generator is truthy", "{% if [] | select('odd') %}truthy{% endif %}", {}),
    ("unique", "{{ [1, 2, 1, 3, 2] | unique | list }} {{ ['a', 'A', 'b'] | unique | list }} {{ ['a', 'A'] | unique(case_sensitive=true) | list }}", {}),
    ("sort", "{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }} {{ items | sort(attribute='n') | map(attribute='n') | list }}", {"items": [{"n": 2}, {"n": 1}]}),
    ("dictsort", "{{ {'b': 1, 'a': 2} | dictsort }} {{ {'b': 1, 'a': 2} | dictsort(by='value') }} {{ {'b': 1, 'A': 2} | dictsort(reverse=true) }}", {}),
    ("reverse", "{{ 'abc' | reverse }} {{ [1, 2, 3] | reverse | list }} {% for x in [1, 2] | reverse %}{{ x }}{% endfor %}", {}),
    ("sum min max", "{{ [1, 2, 3] | sum }} {{ [1.5, 2] | sum }} {{ items | sum(attribute='n') }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ ['b', 'A'] | min }} {{ [] | max }}", {"items": [{"n": 2}, {"n": 1}]}),
    ("tojson", "{{ {'a': [1, 'x', none, true, 1.5], 'é': '\"\\\\\\n'} | tojson }}", {}),
    ("tojson indented", "{{ {'b': [1, {'c': 'x'}], 'a': {}, 'e': []} | tojson(indent=4) }}", {}),
    ("tojson indent two", "{{ [1, [2, 3]] | tojson(indent=2) }}", {}),
    ("tojson options", "{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ 'é' | tojson(ensure_ascii=true) }} {{ [1, 2] | tojson(separators=(',', ':')) }}", {}),
    ("tojson of strings and numbers", "{{ 'x' | tojson }} {{ 3 | tojson }} {{ 2.0 | tojson }} {{ none | tojson }} {{ '\\x01\\u2028' | tojson }} {{ 1e100 | tojson }}", {}),
    ("tojson context", "{{ tools | tojson }}", {"tools": [{"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}}}]}),
    ("tojson of tuple", "{{ (1, 'a') | tojson }}", {}),
    ("tojson of namespace errors", "{{ namespace(a=1) | tojson }}", {}),
    ("safe and escape", "{{ '<b>' | safe }} {{ '<b>&\\'\"' | escape }} {{ '<b>' | e }} {{ ('<' | safe) + '>' }} {{ '<' ~ ('>' | safe) }}", {}),
    ("center wordcount", "[{{ 'ab' | center(6) }}] {{ 'one two  three' | wordcount }}", {}),
    ("truncate", "{{ 'hello world foo bar' | truncate(11) }} {{ 'hello' | truncate(10) }} {{ 'hello world' | truncate(9, true, '..') }}", {}),
    ("batch", "{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | batch(2, 'x') | list }}", {}),
    ("attr filter", "{{ {'a': 1} | attr('a') }} [{{ {'a': 1} | attr('b') }}]", {}),
    ("filter with dotted name is a syntax error", "{{ 'a' | no.such }}", {}),
    ("unknown filter is a syntax error", "{{ 'a' | frobnicate }}", {}),
    ("filter binds tighter than plus", "{{ 'a' + ' b ' | trim + 'c' }}", {}),
    ("filter on parenthesized expression", "{{ ('a' + ' b ') | trim }}", {}),
    ("format filter", "{{ '%s-%d' | format('a', 3) }}", {}),

    # Methods.
    ("string methods", "{{ ' x '.strip() }}|{{ ' x '.lstrip() }}|{{ ' x '.rstrip() }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('x') }}{{ 'abc'.startswith(('x', 'a')) }}|{{ 'ab'.upper() }}{{ 'AB'.lower() }}|{{ 'hello wORLD'.title() }}|{{ \"they're\".title() }}|{{ 'aXb'.replace('X', '-') }}|{{ 'hello'.capitalize() }}", {}),
    ("strip characters", "[{{ '\\n\\nx\\n'.strip('\\n') }}][{{ 'xxay'.lstrip('x') }}][{{ 'ayyx'.rstrip('xy') }}][{{ ' a '.strip(none) }}]", {}),
    ("split", "{{ 'a<b>c<b>'.split('<b>') }}{{ ' a  b '.split() }}{{ 'x'.split(',') }}{{ 'r</think>a'.split('</think>')[-1] }}{{ 'a,b,c'.split(',', 1) }}{{ ''.split() }}{{ ''.split(',') }}", {}),
    ("rsplit and splitlines", "{{ 'a,b,c'.rsplit(',', 1) }} {{ 'a\\nb\\r\\nc\\n'.splitlines() }} {{ 'a\\nb'.splitlines(true) }}", {}),
    ("find count index", "{{ 'hello'.find('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.index('e') }}", {}),
    ("string predicates", "{{ '123'.isdigit() }}{{ 'ab'.isalpha() }}{{ 'a1'.isalnum() }}{{ '  '.isspace() }}{{ 'ab'.islower() }}{{ 'AB'.isupper() }}", {}),
    ("string join and format", "{{ ', '.join(['a', 'b']) }} {{ '{} and {}'.format(1, 'x') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='N') }}", {}),
    ("string misc methods", "{{ 'a'.center(5, '*') }} {{ 'x'.zfill(3) }} {{ 'Hello'.swapcase() }} {{ 'ab'.ljust(4, '.') }} {{ 'ab'.rjust(4) }} {{ 'a-b'.partition('-') }} {{ 'abc'.removeprefix('a') }} {{ 'abc'.removesuffix('c') }}", {}),
    ("dict methods", "{{ d.get('k') }} {{ d.get('q', 'dflt') }} [{{ d.get('q') }}] {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }}", {"d": {"k": "v", "n": 1}}),
    ("dict view printed", "{{ d.items() }} {{ d.keys() }} {{ d.values() }}", {"d": {"k": "v"}}),
    ("dict view length", "{{ d.items() | length }} {{ 'k' in d.keys() }}", {"d": {"k": "v"}}),
    ("list methods", "{{ [1, 2, 1].count(1) }} {{ ['a', 'b'].index('b') }}", {}),
    ("list mutation is blocked", "{% set l = [1] %}{{ l.append(2) }}", {}),
    ("dict mutation is blocked", "{% set d = {} %}{{ d.update({'a': 1}) }}", {}),
    ("method on undefined errors", "{{ missing.strip() }}", {}),
    ("unknown string method is undefined", "[{{ 'a'.nope }}]", {}),
    ("calling unknown method errors", "{{ 'a'.nope() }}", {}),
    ("method object printed", "{{ 'a'.upper is defined }}", {}),

    # Globals.
    ("range", "{% for i in range(3) %}{{ i }}{% endfor %} {{ range(2, 5) | list }} {{ range(1, 8, 3) | list }} {{ range(3, -1, -1) | list }} {{ range(0, 3, -1) | list }}", {}),
    ("range printed", "{{ range(3) }} {{ range(1, 5, 2) }} {{ range(3) | length }} {{ range(5)[1:3] | list }} {{ range(5)[-1] }}", {}),
    ("range too large errors", "{{ range(1000000) | length }}", {}),
    ("range zero step errors", "{{ range(1, 2, 0) }}", {}),
    ("dict global", "{{ dict(a=1, b='x') }} {{ dict([('k', 'v')]) }} {{ dict() }}", {}),
    ("raise_exception", "{{ raise_exception('Custom failure: ' ~ 42) }}", {}),
    ("raise_exception in branch", "{% if messages | length > 1 %}{{ raise_exception('too many') }}{% endif %}ok", {"messages": [1]}),
    ("builtins are defined", "{{ strftime_now is defined }} {{ raise_exception is defined }} {{ range is defined }} {{ namespace is defined }} {{ nothing is defined }}", {}),
    ("strftime_now is a string", "{{ strftime_now('%Y') | length }} {{ strftime_now('%d %b %Y') is string }}", {}),
    ("lipsum", "{{ lipsum(1) | length > 0 }}", {}),
    ("cycler and joiner", "{% set j = joiner(', ') %}{% for x in [1, 2, 3] %}{{ j() }}{{ x }}{% endfor %} {% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}", {}),

    # Syntax errors.
    ("unclosed variable", "{{ 'a'", {}),
    ("unclosed comment", "{# never closed", {}),
    ("unclosed string", "{{ 'abc }}", {}),
    ("unknown tag", "{% frobnicate %}", {}),
    ("extends is unsupported", "{% extends 'base.html' %}", {}),
    ("include is unsupported", "{% include 'x.html' %}", {}),
    ("bad expression", "{{ 1 + }}", {}),
    ("unbalanced bracket", "{{ [1, 2 }}", {}),
    ("assign to literal", "{% set 1 = 2 %}", {}),
    ("elif after else", "{% if a %}{% else %}{% elif b %}{% endif %}", {}),
    ("empty expression", "{{ }}", {}),
    ("dict literal in output", "{{ {'a': {'b': 1}} }}", {}),
    ("statement inside brackets keeps going", "{{ [1,\n 2] }}", {}),
]


UNITS += [
    # printf-style formatting and str.format.
    ("percent operator", "{{ '%s and %d' % ('a', 3) }}|{{ '%(name)s!' % {'name': 'x'} }}|{{ '%05.2f' % 3.14159 }}|{{ '%x %X %o' % (255, 255, 8) }}|{{ '%-4s|' % 'ab' }}|{{ '%+d %r %%' % (5, 'q') }}", {}),
    ("percent operator errors", "{{ '%s %s' % ('a',) }}", {}),
    ("format filter mapping", "{{ '%(a)s-%(b)03d' | format(a='x', b=7) }}", {}),
    ("str format specs", "{{ '{:>5}|{:<5}|{:^5}|{:*^7}'.format('a', 'b', 'c', 'd') }} {{ '{:.2f} {:05d} {:+d} {:x} {:#x} {:e}'.format(3.14159, 42, 7, 255, 255, 12345.678) }} {{ '{!r} {!s} {}'.format('a', 1, 2.50) }} {{ '{:.3}'.format(3.14159) }} {{ '{:%}'.format(0.25) }}", {}),
    ("str format escapes", "{{ '{{literal}} {0}'.format('x') }}", {}),
    # Unicode case mapping and lengths.
    ("unicode case mapping", "{{ 'ΣΑΣ ΟΔΟΣ'.lower() }} {{ 'straße'.upper() }} {{ 'ǆemal'.title() }} {{ 'ﬁne'.upper() }} {{ 'İ'.lower() | length }} {{ 'ǅ'.lower() }} {{ 'hello wORLD'.swapcase() }}", {}),
    ("unicode filters", "{{ 'ΣΑΣ' | lower }} {{ 'élan vital' | title }} {{ 'ÉCOLE' | capitalize }} {{ 'naïve café' | upper }}", {}),
    ("emoji and combining lengths", "{{ '👍🏽' | length }} {{ 'e\u0301' | length }} {{ '🇫🇷'[0] | length }} {{ 'a👍b'[1] }} {{ '你好世界'[1:3] }}", {}),
    ("unicode whitespace strip", "[{{ '\u3000\u2003x\u00a0\u2029' | trim }}][{{ '\u200bx\u200b' | trim }}]", {}),
    ("unicode split", "{{ 'a\u3000b\u00a0c\x1cd'.split() }} {{ 'x\u2028y\x85z'.splitlines() }}", {}),
    ("wordcount unicode", "{{ 'naïve café, 你好 _under_score 42' | wordcount }}", {}),
    # Numbers.
    ("more float repr", "{{ 1e-7 }} {{ 1.5e-10 }} {{ 12345678901234567.0 }} {{ 0.1 * 3 }} {{ 100.0 / 3 }} {{ 2.5e15 }} {{ 9007199254740993.0 }} {{ -1e-320 }}", {}),
    ("integer edge", "{{ 2 ** 62 }} {{ -(2 ** 62) }} {{ 9223372036854775807 }} {{ 7 // -2 }} {{ -7 % -3 }}", {}),
    ("float floor and modulo", "{{ 10 // 3.0 }} {{ -0.0 // 1 }} {{ 5.5 % -2 }} {{ -5.5 % 2 }} {{ 1e308 * 10 }} {{ -(1e308 * 10) }}", {}),
    ("float modulo by zero", "{{ 5 % 0.0 }}", {}),
    ("round more", "{{ 0.5 | round }} {{ 1.5 | round }} {{ 12345 | round(-2) }} {{ 12350 | round(-2) }} {{ 2.5 | round(0, 'floor') }} {{ -0.4 | round }} {{ 1.005 | round(2) }} {{ 123.456 | round(-1) }}", {}),
    ("int and float filters on odd inputs", "{{ '1_000' | int }} {{ '  -7  ' | int }} {{ '0b11' | int(base=0) }} {{ '1e2' | int }} {{ ' 2.5 ' | float }} {{ 'inf' | float }} {{ '-nan' | float }} {{ [1] | int }} {{ [] | float }}", {}),
    ("numbers compare across types", "{{ 1 == 1.0 }} {{ 2 > 1.5 }} {{ true < 2 }} {{ 9007199254740993 == 9007199254740992.0 }} {{ [1, 2.0] == [1.0, 2] }} {{ {1: 'a'}[1.0] }} {{ {true: 'b'}[1] }}", {}),
    # tojson details.
    ("tojson keys and floats", "{{ {1: 'a', 2.5: 'b', true: 'c', none: 'd'} | tojson }} {{ [1e22, 1e-7, -0.0, 3.0] | tojson }}", {}),
    ("tojson tab indent", "{{ {'a': [1]} | tojson(indent='\t') }}", {}),
    ("tojson indent zero", "{{ {'a': [1, 2]} | tojson(indent=0) }}", {}),
    ("tojson unicode and escapes", "{{ {'k\u00e9y': 'v\u2028\t\\/'} | tojson }} {{ '\U0001F600' | tojson(ensure_ascii=true) }}", {}),
    # Membership, views and iteration details.
    ("dict iteration order preserved", "{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ d | list }} {{ d.values() | list }}", {"d": {"z": 1, "a": 2, "m": 3}}),
    ("loop over dict values with index", "{% for v in d.values() %}{{ loop.index }}{{ v }}{% endfor %}", {"d": {"x": "a", "y": "b"}}),
    ("length of dict view and range", "{{ d.keys() | length }} {{ range(0, 10, 3) | length }} {{ 3 in range(5) }} {{ 9 in range(0, 10, 3) }} {{ 10 in range(0, 10, 3) }}", {"d": {"x": 1, "y": 2}}),
    ("string in list of strings", "{{ 'b' in ['a', 'b'] }} {{ 'a' in 'xay' }} {{ ['a'] in [['a']] }} {{ none in [none] }}", {}),
    ("nested data access", "{{ data.users[1].name }} {{ data['users'][0]['tags'] | join('/') }} {{ data.users | map(attribute='name') | join(', ') }}", {"data": {"users": [{"name": "ann", "tags": ["a", "b"]}, {"name": "bob", "tags": []}]}}),
    # Whitespace control around real-world idioms.
    ("chatml loop with trim", "{%- for m in messages %}\n{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}\n{%- endfor %}\n{%- if add_generation_prompt %}\n{{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n", {"messages": MESSAGES, "add_generation_prompt": True}),
    ("indented tags with text lines", "<s>\n  {% for m in messages %}\n    [{{ m.role }}]\n  {% endfor %}\n</s>", {"messages": MESSAGES}),
    ("comment between tags on own lines", "a\n{# one #}\n{# two #}\nb\n  {#- three -#}  \nc", {}),
    ("minus on variable inside lines", "x\n  {{- 'y' -}}  \n  z\n", {}),
    ("block end at end of template", "{% if true %}x{% endif %}\n", {}),
    ("text with lone percent and hash", "50% done {x} #tag {#real comment#}", {}),
]


def _whitespace_fuzz(count, seed):
    """Random mixes of text, tags and whitespace control, for the lexer's trim/lstrip rules.

    A fixed seed keeps the goldens stable; the pieces are chosen so every template is valid Jinja.
    """
    import random

    rng = random.Random(seed)
    spaces = ["", " ", "  ", "\t", "\n", " \n", "\n  ", "\n\n", "\n\t ", "\u00a0", " \n \n"]
    signs = ["", "", "", "-", "+"]
    end_signs = ["", "", "", "-", "+"]

    def ws():
        return rng.choice(spaces)

    def block(body):
        return "{%" + rng.choice(signs) + " " + body + " " + rng.choice(end_signs) + "%}"

    def expr(body):
        return "{{" + rng.choice(["", "", "-"]) + " " + body + " " + rng.choice(["", "", "-"]) + "}}"

    def comment():
        return "{#" + rng.choice(signs) + " note " + rng.choice(end_signs) + "#}"

    def piece(depth):
        kind = rng.randrange(9 if depth < 2 else 5)
        if kind == 0:
            return ws() + rng.choice(["a", "b c", "x\ny", ""]) + ws()
        if kind == 1:
            return ws() + expr(rng.choice(["v", "'s'", "n + 1", "none", "items | length"])) + ws()
        if kind == 2:
            return ws() + comment() + ws()
        if kind == 3:
            return ws() + block("set t = " + rng.choice(["1", "'q'", "v ~ 'z'"])) + ws() + expr("t") + ws()
        if kind == 4:
            return ws() + "{%" + rng.choice(signs) + " raw " + rng.choice(["", "-"]) + "%}" + ws() + "{{ kept }}" + ws() + "{%" + rng.choice(signs) + " endraw " + rng.choice(end_signs) + "%}" + ws()
        body = "".join(piece(depth + 1) for _ in range(rng.randrange(1, 3)))
        if kind in (5, 6):
            other = "".join(piece(depth + 1) for _ in range(rng.randrange(0, 2)))
            return ws() + block("if " + rng.choice(["flag", "not flag", "n > 1"])) + body + block("else") + other + block("endif") + ws()
        return ws() + block("for i in items") + body + expr("loop.index") + block("endfor") + ws()

    cases = []
    for i in range(count):
        template = "".join(piece(0) for _ in range(rng.randrange(1, 5)))
        cases.append((f"whitespace fuzz {i}", template, {"v": "V", "n": 2, "flag": i % 2 == 0, "items": [1, 2]}))
    return cases


UNITS += _whitespace_fuzz(400, seed=20240607)


def _expression_fuzz(count, seed):
    """Random expressions over mixed Python values: operators, comparisons, filters, tests and str methods.

    They print through `{{ }}` (Python's str/repr) or fail the way jinja2 fails; a fixed seed keeps them stable.
    """
    import random

    rng = random.Random(seed)
    atoms = [
        "0", "1", "-3", "7", "2.5", "-0.5", "1e3", "0.1", "true", "false", "none", "'a'", "''", "' x '", "'Ab c'",
        "'é'", "'3'", "[1, 2]", "[]", "['b', 'a']", "(1, 'x')", "{'k': 1}", "{}", "s", "n", "f", "l", "d", "u",
        "missing",
    ]
    binary = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
    filters = [
        "length", "string", "list", "first", "last", "upper", "lower", "trim", "title", "capitalize", "int",
        "float", "abs", "round", "tojson", "sort", "unique | list", "reverse | list", "join('-')", "default('D')",
        "sum", "min", "max", "items | list", "select | list", "reject | list", "wordcount", "center(5)",
        "replace('a', 'z')", "indent(2)", "batch(1) | list", "dictsort", "count", "e", "safe",
    ]
    tests = [
        "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "mapping", "iterable",
        "sequence", "true", "false", "even", "odd", "lower", "upper", "divisibleby(2)", "eq 1", "in [1, 'a']",
    ]
    methods = [
        "strip()", "upper()", "split()", "split('a')", "startswith('a')", "endswith('c')", "replace(' ', '_')",
        "title()", "lstrip('A')", "count('a')", "find('b')", "isdigit()", "get('k')", "items() | list",
        "keys() | list", "index(1)",
    ]

    def expression(depth):
        choice = rng.randrange(10 if depth < 3 else 1)
        if choice == 0 or depth >= 3:
            return rng.choice(atoms)
        if choice <= 3:
            return "(" + expression(depth + 1) + " " + rng.choice(binary) + " " + expression(depth + 1) + ")"
        if choice <= 5:
            return "(" + expression(depth + 1) + " | " + rng.choice(filters) + ")"
        if choice == 6:
            return "(" + expression(depth + 1) + " is " + rng.choice(["", "not "]) + rng.choice(tests) + ")"
        if choice == 7:
            return "(" + expression(depth + 1) + ")." + rng.choice(methods)
        if choice == 8:
            return "(" + expression(depth + 1) + ")[" + rng.choice(["0", "-1", "1:", "::-1", "'k'", ":2"]) + "]"
        return "(" + expression(depth + 1) + " if " + expression(depth + 1) + " else " + expression(depth + 1) + ")"

    context = {"s": "Hello World", "n": 4, "f": -1.25, "l": [3, 1, 2], "d": {"k": "v", "a": 1}, "u": "ünï"}
    cases = []
    for i in range(count):
        cases.append((f"expression fuzz {i}", "{{ " + expression(0) + " }}", context))
    return cases


UNITS += _expression_fuzz(600, seed=31337)


def _statement_fuzz(count, seed):
    """Random nestings of set, for (with break/continue/else), if, with, macro calls and namespaces: the
    scoping rules (what a loop body or macro may change outside itself) and loop bookkeeping."""
    import random

    rng = random.Random(seed)
    values = ["1", "a + 1", "b ~ 'x'", "i", "loop.index", "ns.x + 1", "a * 2", "'s'", "b | length", "m(a)"]

    def value(in_loop):
        choices = values if in_loop else [v for v in values if v not in ("i", "loop.index")]
        return rng.choice(choices)

    def body(depth, in_loop):
        parts = []
        for _ in range(rng.randrange(1, 4)):
            kind = rng.randrange(10 if depth < 3 else 4)
            if kind == 0:
                parts.append("{% set a = " + value(in_loop) + " %}")
            elif kind == 1:
                parts.append("{% set ns.x = " + value(in_loop) + " %}")
            elif kind == 2:
                parts.append("[{{ a }}|{{ b }}|{{ ns.x }}" + ("|{{ i }}|{{ loop.index }}" if in_loop else "") + "]")
            elif kind == 3:
                parts.append("{% set b = " + value(in_loop) + " %}")
            elif kind in (4, 5):
                loop_body = body(depth + 1, True)
                if rng.random() < 0.3:
                    loop_body += "{% if i == " + str(rng.randrange(1, 4)) + " %}{% " + rng.choice(["break", "continue"]) + " %}{% endif %}"
                loop_body += body(depth + 1, True)
                otherwise = "{% else %}" + body(depth + 1, in_loop) if rng.random() < 0.3 else ""
                source = rng.choice(["[1, 2, 3]", "[]", "range(2)", "'ab'"])
                condition = " if i != 2" if rng.random() < 0.2 else ""
                parts.append("{% for i in " + source + condition + " %}" + loop_body + otherwise + "{% endfor %}")
            elif kind == 6:
                test = rng.choice(["a > 1", "b", "ns.x", "not a", "a is defined"])
                parts.append("{% if " + test + " %}" + body(depth + 1, in_loop) + "{% else %}" + body(depth + 1, in_loop) + "{% endif %}")
            elif kind == 7:
                parts.append("{% with a = " + value(in_loop) + " %}" + body(depth + 1, in_loop) + "{% endwith %}")
            elif kind == 8:
                parts.append("{{ m(" + value(in_loop) + ") }}")
            else:
                parts.append("{% set c %}" + body(depth + 1, in_loop) + "{% endset %}({{ c | length }})")
        return "".join(parts)

    prelude = "{% set ns = namespace(x=0) %}{% set a = 1 %}{% set b = 'b' %}" \
              "{% macro m(p) %}<{{ p }}{{ a }}{% set a = 7 %}{{ a }}{% set ns.x = ns.x + 1 %}>{% endmacro %}"
    cases = []
    for i in range(count):
        template = prelude + body(0, False) + "={{ a }}{{ b }}{{ ns.x }}"
        cases.append((f"statement fuzz {i}", template, {}))
    return cases


UNITS += _statement_fuzz(300, seed=4242)
UNITS += [(name.replace("expression fuzz", "expression fuzz b"), template, context)
          for name, template, context in _expression_fuzz(600, seed=99)]
