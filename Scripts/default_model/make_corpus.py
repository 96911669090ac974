#!/usr/bin/env python3
"""Procedural children's-story generator: the training text of Origami's default model.

The default model must be trainable on this machine with no downloads, and its training text must be
free of anyone else's copyright. So every story here is assembled from hand-written sentence templates
and word lists: characters (children and animals with names, genders and habits), places with their own
features and activities, objects with their own ways of being played with, feelings, dialogue, and a
dozen story arcs (lost toy, sharing, fear, a new friend, helping, treasure hunt, baking, rainy day,
not listening, saving up, a race, a picnic). Each arc picks among several phrasings per beat, so the
model sees the same plot told many ways and has to learn grammar rather than memorise sentences.

Everything is driven by one `random.Random(seed)`, and nothing iterates over sets or dicts whose order
could vary, so a seed always yields byte-identical text. The validation split uses a different seed.

Output: one story per line (stories never contain newlines), plain ASCII.

    python3 Scripts/default_model/make_corpus.py --out /tmp/origami-default-model/corpus
"""

import argparse
import os
import random

# ---------------------------------------------------------------------------------------------------
# Word lists. Kept as lists (never sets) so that random choices are reproducible across runs.

GIRL_NAMES = ["Mia", "Lily", "Anna", "Emma", "Zoe", "Sara", "Lucy", "Ella", "Amy", "Kate", "Rosa", "Nina",
              "Maya", "Ruby", "Grace", "Chloe", "Sophie", "Jane", "Ivy", "Rose", "Lena", "Molly", "Hannah",
              "Julia", "Alice", "Clara", "Daisy", "Eva"]
BOY_NAMES = ["Tom", "Ben", "Sam", "Max", "Leo", "Jack", "Tim", "Finn", "Noah", "Jake", "Luke", "Alex", "Dan",
             "Oscar", "Theo", "Hugo", "Eli", "Owen", "Paul", "Ryan", "Adam", "Henry", "Peter", "Oliver",
             "Jamie", "Toby", "Nick", "Kevin"]
PET_NAMES = ["Spot", "Buddy", "Rex", "Coco", "Bella", "Pip", "Rocky", "Lucky", "Fluffy", "Whiskers",
             "Bubbles", "Sunny", "Bobo", "Ginger", "Pepper", "Biscuit", "Patch", "Dotty", "Nibbles",
             "Squeaky", "Hoppy", "Tiny", "Shadow", "Button", "Peanut", "Honey", "Bruno", "Willow"]

# kind -> (what it does when happy, how it moves, its sound verb, where it lives, a habit)
ANIMALS = {
    "dog": ("wagged {his} tail", "ran", "barked", "in a little house with a red door",
            "loved to run and play in the park"),
    "puppy": ("wagged {his} tail", "ran", "barked", "in a warm house with a big yard",
              "liked to chase balls and sticks"),
    "cat": ("purred softly", "walked", "meowed", "in a cozy house on a quiet street",
            "liked to sleep in the warm sun"),
    "kitten": ("purred softly", "ran", "meowed", "in a cozy house with a little garden",
               "loved to play with balls of yarn"),
    "bunny": ("hopped up and down", "hopped", "squeaked", "in a small hole under a big tree",
              "loved to eat carrots and hop in the grass"),
    "bear": ("smiled a big smile", "walked", "growled", "in a big cave in the forest",
             "loved to eat honey"),
    "fox": ("jumped for joy", "ran", "yipped", "in a den at the edge of the forest",
            "liked to explore the woods"),
    "mouse": ("squeaked with joy", "ran", "squeaked", "in a tiny hole in the wall",
              "loved to eat cheese"),
    "duck": ("flapped {his} wings", "waddled", "quacked", "by a little pond",
             "loved to swim in the pond"),
    "frog": ("jumped high", "hopped", "croaked", "by a green pond",
             "liked to sit on a lily pad"),
    "owl": ("hooted happily", "flew", "hooted", "in an old tree in the forest",
            "liked to look at the stars at night"),
    "bird": ("sang a happy song", "flew", "chirped", "in a nest high in a tree",
             "loved to sing in the morning"),
    "squirrel": ("jumped up and down", "ran", "chattered", "in a hole in a tall oak tree",
                 "liked to collect nuts"),
    "pig": ("rolled in the grass", "ran", "oinked", "on a big farm",
            "liked to play in the mud"),
    "cow": ("mooed happily", "walked", "mooed", "on a green farm",
            "liked to eat fresh grass"),
    "horse": ("neighed happily", "ran", "neighed", "on a farm with a big red barn",
              "loved to run in the fields"),
    "lion": ("roared with joy", "ran", "roared", "in the tall grass of a sunny land",
             "liked to nap under a big tree"),
    "elephant": ("raised {his} trunk", "walked", "trumpeted", "near a wide river",
                 "loved to splash in the water"),
    "turtle": ("smiled slowly", "walked", "hummed", "by a quiet lake",
               "liked to rest on a warm rock"),
    "monkey": ("clapped {his} hands", "swung", "chattered", "in a tall tree in the jungle",
               "loved to eat bananas"),
}
ANIMAL_KINDS = list(ANIMALS.keys())

CHAR_ADJS = ["little", "small", "kind", "happy", "brave", "curious", "shy", "funny", "friendly", "clever",
             "silly", "gentle", "playful", "sleepy", "young", "cheerful", "busy", "smart"]
KID_HOMES = ["in a small house near the park", "in a big city", "on a farm", "in a little house by the sea",
             "in a quiet town", "in a house with a big garden", "in a small village", "near a tall hill",
             "in a blue house on a busy street", "near the edge of a forest"]
KID_HABITS = ["loved to play outside", "liked to draw pictures", "loved to read books",
              "liked to help {his} mom", "loved to sing songs", "liked to build things with blocks",
              "loved to run and jump", "liked to look at the clouds", "loved to play with {his} friends",
              "liked to ask many questions"]
PARENTS = ["mom", "dad", "grandma", "grandpa"]
COLORS = ["red", "blue", "green", "yellow", "pink", "purple", "orange", "white", "shiny", "soft", "new",
          "big", "little", "bright"]

# name -> ways of playing with it (past tense; "it" is the object)
OBJECTS = {
    "ball": ["threw it high in the air", "kicked it across the grass", "bounced it up and down"],
    "kite": ["flew it high in the sky", "ran with it in the wind"],
    "teddy bear": ["hugged it tight", "took it everywhere {he} went"],
    "toy car": ["rolled it on the ground", "made it go very fast"],
    "boat": ["sailed it in a big puddle", "pushed it across the water"],
    "doll": ["brushed its hair", "gave it a little hat"],
    "book": ["read it again and again", "looked at all the pictures"],
    "hat": ["wore it every day", "put it on {his} head"],
    "drum": ["played it loudly", "tapped it with a stick"],
    "balloon": ["held it by the string", "watched it float in the air"],
    "toy train": ["pushed it along the path", "made it go choo choo"],
    "blanket": ["wrapped it around {himself}", "took it everywhere {he} went"],
    "shell": ["held it up to {his} ear", "showed it to everyone"],
    "whistle": ["blew it loudly", "blew it to make music"],
    "toy robot": ["made it walk and dance", "played with it all day"],
    "scarf": ["wore it around {his} neck", "wrapped it around {himself}"],
    "bike": ["rode it around the block", "rode it very fast"],
    "crown": ["wore it like a king", "put it on {his} head"],
    "jump rope": ["jumped with it all day", "counted every jump"],
    "flute": ["played a sweet song on it", "played it every morning"],
}
OBJECT_NAMES = list(OBJECTS.keys())

# name -> (features you can see there, things to do there (base form), places something can hide)
PLACES = {
    "the park": (["The swings moved in the wind.", "Children played on the slide.",
                  "The grass was soft and green."],
                 ["play on the swings", "go down the slide", "run on the grass"],
                 ["under a bench", "behind a big tree", "in the tall grass", "near the slide"]),
    "the forest": (["The trees were tall and green.", "Birds sang in the branches.",
                    "Sunlight came through the leaves."],
                   ["walk along the path", "pick up pretty leaves", "look for birds"],
                   ["under a pile of leaves", "behind a big rock", "next to an old log", "under a bush"]),
    "the garden": (["Flowers of every color grew there.", "Bees buzzed around the flowers.",
                    "The roses smelled sweet."],
                   ["water the flowers", "look at the bees", "pick some flowers"],
                   ["behind the flower pots", "under a big leaf", "near the fence", "in the bushes"]),
    "the beach": (["The waves went up and down.", "The sand was warm and soft.",
                   "Seagulls flew over the water."],
                  ["build a sand castle", "look for shells", "play in the waves"],
                  ["in the sand", "behind a big rock", "near the water", "under a towel"]),
    "the farm": (["The cows ate grass in the field.", "There was a big red barn.",
                  "The hens walked around and clucked."],
                 ["feed the hens", "play in the hay", "look at the cows"],
                 ["in the hay", "behind the barn", "near the gate", "under the old cart"]),
    "the lake": (["The water was calm and blue.", "Ducks swam near the shore.",
                  "Little fish jumped in the water."],
                 ["throw stones in the water", "watch the ducks", "walk along the shore"],
                 ["near the water", "behind a rock", "in the reeds", "under a small boat"]),
    "the hill": (["From the top, you could see the whole town.", "The wind was strong up there.",
                  "The grass moved like waves."],
                 ["roll down the hill", "run up and down", "look at the clouds"],
                 ["in the grass", "behind a big stone", "near an old tree", "under a bush"]),
    "the playground": (["There was a big slide and a sandbox.", "Kids laughed and played.",
                        "The swings went high."],
                       ["play on the swings", "go down the slide", "dig in the sandbox"],
                       ["in the sandbox", "under the slide", "behind a bench", "near the swings"]),
    "the meadow": (["Butterflies flew over the flowers.", "The grass was high and green.",
                    "The sun was warm and bright."],
                   ["chase butterflies", "pick flowers", "lie in the grass"],
                   ["in the tall grass", "near a little stream", "behind a big rock", "under some flowers"]),
    "the zoo": (["The lions slept in the sun.", "The monkeys jumped from tree to tree.",
                 "The elephants drank water."],
                ["watch the monkeys", "feed the goats", "look at the lions"],
                ["under a bench", "near the gate", "behind a sign", "by the fence"]),
    "the library": (["There were books on every shelf.", "It was quiet and calm.",
                     "A kind lady sat at the desk."],
                    ["read a book about dragons", "look at picture books", "listen to a story"],
                    ["under a table", "behind a shelf", "on a chair", "near the door"]),
    "the market": (["There were apples, bread and flowers.", "People talked and laughed.",
                    "The fruit looked fresh and bright."],
                   ["look at the fruit", "smell the fresh bread", "help carry the bags"],
                   ["under a table", "behind a box of apples", "near a cart", "by the fruit stand"]),
    "the river": (["The water ran fast over the stones.", "Frogs sat on the rocks.",
                   "A little bridge went over the water."],
                  ["throw sticks in the water", "look at the fish", "walk along the bank"],
                  ["near the bridge", "behind a rock", "in the reeds", "under a log"]),
    "the backyard": (["There was a big tree with a swing.", "The grass was green and short.",
                      "A bird house hung from a branch."],
                     ["play on the swing", "dig in the dirt", "run around the tree"],
                     ["behind the shed", "under the tree", "in the bushes", "near the fence"]),
}
PLACE_NAMES = list(PLACES.keys())

TIMES = ["One day", "One sunny morning", "One afternoon", "One warm summer day", "Early one morning",
         "One bright day", "One cold winter day", "One windy day", "One Saturday morning", "One evening"]
WORLDS = ["a small village", "a big forest", "a quiet town", "a sunny land", "a green valley",
          "a little town by the sea", "a land far away"]
SAY_VERBS = ["said", "said", "said", "replied", "answered", "shouted", "whispered", "cried", "called"]
FOODS = [("cake", "a cake"), ("pie", "an apple pie"), ("cookies", "some cookies"), ("bread", "some bread"),
         ("pancakes", "some pancakes"), ("soup", "a pot of soup"), ("muffins", "some muffins")]
OCCASIONS = ["a birthday party", "a picnic", "grandma's visit", "a special day", "dinner with friends"]
PICNIC_FOOD = ["sandwiches", "apples", "grapes", "cookies", "juice", "cheese", "bananas", "lemonade"]

VOWELS = "aeiou"

# Default splits; train.py uses the same numbers when it has to generate the corpus itself.
TRAIN_SEED, TRAIN_MB = 1234, 20.0
VALID_SEED, VALID_MB = 98765, 0.5

# The first verb of every place activity, as (past tense, -ing form). Activities are stored in base form
# ("play on the swings") so that one list serves "to play", "played" and "playing".
VERB_FORMS = {"play": ("played", "playing"), "go": ("went", "going"), "run": ("ran", "running"),
              "walk": ("walked", "walking"), "pick": ("picked", "picking"), "look": ("looked", "looking"),
              "water": ("watered", "watering"), "build": ("built", "building"), "feed": ("fed", "feeding"),
              "throw": ("threw", "throwing"), "watch": ("watched", "watching"), "roll": ("rolled", "rolling"),
              "dig": ("dug", "digging"), "chase": ("chased", "chasing"), "lie": ("lay", "lying"),
              "read": ("read", "reading"), "listen": ("listened", "listening"), "smell": ("smelled", "smelling"),
              "help": ("helped", "helping")}


def verb_form(activity, which):
    """'play on the swings' -> 'played on the swings' (which=0) or 'playing on the swings' (which=1)."""
    verb, rest = activity.split(" ", 1)
    return f"{VERB_FORMS[verb][which]} {rest}"


def article(word):
    """'a' or 'an' for the word that follows. None of our words start with a silent h or a 'yoo' u."""
    return "an" if word[0].lower() in VOWELS else "a"


def with_article(phrase):
    return f"{article(phrase)} {phrase}"


def cap(s):
    """Capitalise the first letter of a sentence, skipping a leading quote mark."""
    for i, ch in enumerate(s):
        if ch.isalpha():
            return s[:i] + ch.upper() + s[i + 1:]
    return s


# ---------------------------------------------------------------------------------------------------
# Characters


class Char:
    def __init__(self, name, kind, female, adj):
        self.name, self.kind, self.female, self.adj = name, kind, female, adj
        self.animal = kind in ANIMALS

    @property
    def he(self):
        return "she" if self.female else "he"

    @property
    def him(self):
        return "her" if self.female else "him"

    @property
    def his(self):
        return "her" if self.female else "his"

    @property
    def himself(self):
        return "herself" if self.female else "himself"

    def desc(self):
        """'the little dog' — how an animal is often named in children's stories."""
        return f"the {self.adj} {self.kind}"

    def intro(self):
        return f"{with_article(self.adj + ' ' + self.kind)} named {self.name}"

    def home(self):
        return ANIMALS[self.kind][3] if self.animal else None

    def habit(self, rng):
        h = ANIMALS[self.kind][4] if self.animal else rng.choice(KID_HABITS)
        return h.format(his=self.his)


class Story:
    """Holds the cast and the random source; `f` fills a template with the cast's words."""

    def __init__(self, rng):
        self.rng = rng
        self.used_names = []
        self.sents = []

    def pick(self, seq):
        return self.rng.choice(seq)

    def chance(self, p):
        return self.rng.random() < p

    def new_char(self, animal=None, female=None):
        rng = self.rng
        if animal is None:
            animal = rng.random() < 0.4
        if female is None:
            female = rng.random() < 0.5
        if animal:
            kind = rng.choice(ANIMAL_KINDS)
            pool = PET_NAMES
        else:
            kind = "girl" if female else "boy"
            pool = GIRL_NAMES if female else BOY_NAMES
        name = rng.choice([n for n in pool if n not in self.used_names])
        self.used_names.append(name)
        return Char(name, kind, female, rng.choice(CHAR_ADJS))

    def vars(self, **extra):
        d = {}
        for key, c in (("h", self.hero), ("f", getattr(self, "friend", None))):
            if c is None:
                continue
            # For animal heroes, sometimes say "the little dog" instead of the name, as stories do, but
            # only once the name has been said, so the reader knows who "the little dog" is.
            use_desc = key == "h" and c.animal and self.chance(0.25) and any(c.name in t for t in self.sents)
            d[key] = c.desc() if use_desc else c.name
            d[key + "name"] = c.name
            d[key + "he"], d[key + "him"], d[key + "his"], d[key + "self"] = c.he, c.him, c.his, c.himself
            d[key + "kind"], d[key + "adj"] = c.kind, c.adj
        # Bare {he}/{him}/{his} always mean the hero; capitalised keys start a sentence.
        d["he"], d["him"], d["his"], d["himself"] = d["hhe"], d["hhim"], d["hhis"], d["hself"]
        d["He"], d["His"] = cap(d["he"]), cap(d["his"])
        if "fhe" in d:
            d["fHe"], d["fHis"] = cap(d["fhe"]), cap(d["fhis"])
        d.update(extra)
        return d

    def f(self, template, **extra):
        return cap(template.format(**self.vars(**extra)))

    def add(self, *templates, **extra):
        """Add one sentence, chosen among `templates`."""
        self.sents.append(self.f(self.pick(templates), **extra))

    def say(self, speaker, line, verb=None, **extra):
        """Dialogue, punctuated the usual way: '"Line," said Mia.' or 'Mia said, "Line."'"""
        line = line.format(**self.vars(**extra))
        line = cap(line)
        if verb is None:
            verb = "asked" if line.endswith("?") else self.pick(SAY_VERBS)
        who = speaker.format(**self.vars(**extra))
        if self.chance(0.7):
            inner = line[:-1] + "," if line.endswith(".") else line
            if self.chance(0.5) or not who.split()[0][0].isupper():
                self.sents.append(f'"{inner}" {verb} {who}.')
            else:
                self.sents.append(f'"{inner}" {who} {verb}.')
        else:
            self.sents.append(cap(f'{who} {verb}, "{line}"'))

    def text(self):
        return " ".join(self.sents)


# ---------------------------------------------------------------------------------------------------
# Shared beats


def opening(s):
    """Introduce the hero. Sometimes skip it and start straight with 'One day, ...'."""
    h = s.hero
    r = s.rng.random()
    if r < 0.30:
        s.add("Once upon a time, there was {intro}.", intro=h.intro())
    elif r < 0.45:
        s.add("Once upon a time, in {world}, there lived {intro}.", world=s.pick(WORLDS), intro=h.intro())
    elif r < 0.55:
        s.add("There was once {intro}.", intro=h.intro())
    elif r < 0.68:
        home = h.home() or s.pick(KID_HOMES)
        s.add("{hname} was {a_desc}. {He} lived {home}.", a_desc=with_article(h.adj + " " + h.kind),
              home=home, He=cap(h.he))
    elif r < 0.80 and h.animal:
        s.sents.append(cap(f"{h.desc()} {h.habit(s.rng)}."))
        s.sents.append(f"{cap(h.his)} name was {h.name}.")
        return
    else:
        return  # no introduction: the arc's first beat ("One day, Mia ...") opens the story
    if s.chance(0.6):
        s.add("{He} {habit}.", He=cap(h.he), habit=h.habit(s.rng))


def when(s):
    return s.pick(TIMES)


def place_detail(s, place):
    s.sents.append(s.pick(PLACES[place][0]))


def ending(s, *lessons, **extra):
    s.add(*lessons, **extra)
    if s.chance(0.15):
        s.sents.append("The end.")


def obj_play(s, obj):
    return s.pick(OBJECTS[obj]).format(**s.vars())


def meet_friend(s, place):
    fr = s.friend
    if fr.animal:
        s.add("There, {h} saw {a_f} named {f}.", "At {place}, {h} met {a_f} called {f}.",
              a_f=with_article(fr.adj + " " + fr.kind), place=place)
    else:
        s.add("There, {h} saw {his} friend {f}.", "At {place}, {h} met a {fkind} named {f}.",
              "{f} was there too. {f} was {his} best friend.", place=place)


# ---------------------------------------------------------------------------------------------------
# Story arcs. Each builds the whole story into `s.sents`.


def arc_lost(s):
    h, obj, place = s.hero, s.pick(OBJECT_NAMES), s.pick(PLACE_NAMES)
    col = s.pick(COLORS)
    opening(s)
    s.add("{h} had {a_obj}. {He} loved it very much.", "{His} favorite toy was {a_obj}.",
          "{h} loved {his} {col} {obj} more than anything.", a_obj=with_article(col + " " + obj),
          col=col, obj=obj, He=cap(h.he), His=cap(h.his))
    s.add("{when}, {h} took the {obj} to {place}.", "{when}, {h} went to {place} with {his} {obj}.",
          when=when(s), obj=obj, place=place)
    if s.chance(0.5):
        place_detail(s, place)
    s.add("{He} {play}.", "{h} was very happy. {He} {play}.", play=obj_play(s, obj))
    s.add("But when {he} looked again, the {obj} was gone!", "After a while, {h} could not find {his} {obj}.",
          "Suddenly, a strong wind came and blew the {obj} away.", "Then {h} put the {obj} down to {act}.",
          obj=obj, act=s.pick(PLACES[place][1]))
    if s.sents[-1].startswith("Then"):
        s.add("When {he} came back, the {obj} was not there!", obj=obj)
    s.add("{h} was very sad. {He} started to cry.", "{h} felt worried. Where could it be?",
          "{h} looked everywhere, but {he} could not find it.", He=cap(h.he))
    s.friend = s.new_char()
    fr = s.friend
    s.add("Just then, {a_f} named {f} came by.", "Then {h}'s friend {f} came over.",
          a_f=with_article(fr.adj + " " + fr.kind))
    s.say("{f}", s.pick(["Why are you sad?", "What is wrong?", "Why are you crying?"]))
    s.say("{h}", s.pick(["I lost my {obj}.", "My {obj} is gone. I cannot find it."]), obj=obj)
    s.say("{f}", s.pick(["Do not worry. I will help you find it.", "Let's look for it together!"]))
    spots = list(PLACES[place][2])
    s.rng.shuffle(spots)
    s.add("They looked {a}. It was not there.", "First, they looked {a}, but they did not find it.", a=spots[0])
    s.add("Then they looked {b}. It was not there either.", "Next, they looked {b}. Still no {obj}.",
          b=spots[1], obj=obj)
    s.add("At last, {f} found the {obj} {c}!", "Then {h} saw something {col} {c}. It was the {obj}!",
          obj=obj, c=spots[2], col=col)
    s.say("{h}", s.pick(["Thank you, {fname}!", "You are a good friend!", "Thank you for helping me!"]))
    s.add("{h} gave {f} a big hug.", "{h} smiled and hugged the {obj}.",
          "{h} and {f} played with the {obj} until it was time to go home.", obj=obj)
    ending(s, "From that day on, {h} and {f} were best friends.",
           "{h} learned to take good care of {his} things.",
           "{h} was happy again, and {he} never lost {his} {obj} again.", obj=obj)


def arc_share(s):
    h, obj, place = s.hero, s.pick(OBJECT_NAMES), s.pick(PLACE_NAMES)
    col = s.pick(COLORS)
    opening(s)
    s.add("{when}, {h} got {a_obj}.", "{h} had a new {obj}. It was {col} and very nice.",
          "{h}'s {parent} gave {him} {a_obj} as a gift.", when=when(s), a_obj=with_article(col + " " + obj),
          obj=obj, col=col, parent=s.pick(PARENTS))
    s.add("{He} took it to {place} to play.", "{h} went to {place} with the {obj}.", He=cap(h.he), place=place,
          obj=obj)
    s.friend = s.new_char()
    meet_friend(s, place)
    s.add("{f} looked at the {obj}.", "{f} wanted to play with the {obj} too.", obj=obj)
    s.say("{f}", s.pick(["Can I play with your {obj}?", "Can I have a turn, please?",
                         "May I try your {obj}?"]), obj=obj)
    s.say("{h}", s.pick(["No, it is mine!", "No! It is my {obj}.", "No, you cannot have it."]), obj=obj)
    s.add("{f} felt sad and walked away.", "{f} looked down and sat on the grass alone.",
          "{f} was sad. {fHe} did not say anything.", fHe=cap(s.friend.he))
    s.add("{h} played with the {obj} alone, but it was not fun.", "Soon {h} felt bored.",
          "{h} {play}, but {he} did not feel happy.", obj=obj, play=obj_play(s, obj))
    s.add("{He} looked at {f} and felt bad.", "{h} remembered what {his} {parent} said: \"It is good to share.\"",
          "{h} thought about {f}. {He} felt sorry.", He=cap(h.he), parent=s.pick(PARENTS))
    s.add("{h} ran to {f}.", "{h} walked over to {f}.")
    s.say("{h}", s.pick(["I am sorry. Let's play together!", "Here, you can have a turn.",
                         "Do you want to play with me?"]))
    s.add("{f} smiled a big smile.", "{f} was very happy.", "{f} said thank you and smiled.")
    s.add("They took turns with the {obj}.", "They played together all afternoon.",
          "They played with the {obj} together until the sun went down.", obj=obj)
    ending(s, "{h} learned that sharing makes everyone happy.",
           "Playing together was much more fun than playing alone.",
           "From that day on, {h} always shared {his} toys.")


FEARS = [  # (fear, when it happens, comfort, brave act, it turned out)
    ("the dark", "One night, {h} could not sleep. The room was very dark.",
     "The dark is just the same room without the light. Your toys are still here.",
     "{h} looked around the dark room. {He} saw {his} bed, {his} toys and the moon in the window.",
     "The dark was quiet and calm. It was not scary at all."),
    ("thunder", "One evening, a big storm came. The thunder went boom!",
     "Thunder is just a loud noise from the clouds. It cannot hurt you.",
     "{h} sat by the window and counted the flashes of light with {his} {parent}.",
     "Soon the storm went away, and the stars came out."),
    ("the big slide", "At the playground, all the kids went down the big slide.",
     "You can do it. I will wait for you at the bottom.",
     "{h} climbed up the steps one by one. Then {he} sat down and let go.",
     "Whoosh! It was fast and fun. {h} wanted to go again and again."),
    ("the water", "One hot day, everyone went to the lake to swim.",
     "I will hold your hand. We will go in slowly.",
     "{h} put one foot in the water, then the other. The water was cool and nice.",
     "Soon {h} was splashing and laughing with everyone."),
    ("the big dog next door", "Every day, the big dog next door barked at {h}.",
     "He is just saying hello. He is a friendly dog.",
     "{h} held out {his} hand slowly. The big dog sniffed it and licked it.",
     "The big dog wagged his tail. He only wanted to play."),
    ("the first day of school", "The next day was {h}'s first day at a new school.",
     "Everyone is new on the first day. You will make friends.",
     "{h} walked into the class and said hello to a girl with a red bag.",
     "They played together at lunch. School was fun after all."),
    ("bees", "In the garden, a bee flew near {h}'s nose.",
     "Bees are busy with the flowers. If you stay calm, they will not sting you.",
     "{h} stood very still and watched the bee.",
     "The bee flew from flower to flower and then flew away."),
]


def arc_fear(s):
    h = s.hero
    fear, event, comfort, act, result = s.pick(FEARS)
    parent = s.pick(PARENTS)
    opening(s)
    s.add("{h} was afraid of {fear}.", "{h} was a happy {kind}, but {he} was scared of {fear}.",
          "There was one thing {h} did not like: {fear}.", fear=fear, kind=h.kind)
    s.sents.append(s.f(event))
    s.add("{h} felt scared. {He} wanted to hide.", "{h}'s heart went fast. {He} did not want to move.",
          "{h} began to cry.", He=cap(h.he))
    if s.chance(0.5):
        s.add("{h} ran to {his} {parent}.", "{h}'s {parent} came and sat next to {him}.", parent=parent)
        s.say("{his} {parent}", comfort, parent=parent)
    else:
        s.friend = s.new_char()
        s.add("{h}'s friend {f} saw that {he} was scared.", "Just then, {f} came to sit with {h}.")
        s.say("{f}", comfort)
    s.add("{h} took a deep breath.", "{h} thought about it. Then {he} nodded.", "{h} wanted to be brave.")
    s.sents.append(s.f(act, parent=parent))
    s.sents.append(s.f(result))
    s.say("{h}", s.pick(["I did it!", "That was not so bad!", "I am not scared anymore!"]))
    ending(s, "From that day on, {h} was not afraid of {fear}.", "{h} felt brave and proud.",
           "{h} learned that being brave means trying even when you are scared.", fear=fear)


GAMES = ["played hide and seek", "played tag", "raced to the big tree", "played ball", "sang silly songs",
         "looked for pretty stones", "told each other funny stories", "made a little house out of sticks"]


def arc_friend(s):
    h, place = s.hero, s.pick(PLACE_NAMES)
    opening(s)
    s.add("{h} did not have any friends.", "{h} wanted a friend to play with.",
          "{h} felt lonely. All {his} friends had moved away.")
    s.add("{when}, {h} went to {place}.", "{when}, {h} walked to {place} all alone.", when=when(s), place=place)
    if s.chance(0.5):
        place_detail(s, place)
    s.friend = s.new_char()
    fr = s.friend
    s.add("There, {he} saw {a_f} sitting all alone.", "{He} saw {a_f} {act}.",
          He=cap(h.he), a_f=with_article(fr.adj + " " + fr.kind), act=verb_form(s.pick(PLACES[place][1]), 1))
    s.add("{h} was a little shy, but {he} walked over.", "{h} wanted to say hello.")
    s.say("{h}", "Hello! My name is {hname}. What is your name?")
    s.say("the {fkind}", "My name is {fname}.")
    s.say("{h}", s.pick(["Do you want to play with me?", "Will you be my friend?", "Can we play together?"]))
    s.say("{f}", s.pick(["Yes, I would like that!", "Yes! Let's play!", "Oh yes, I love to play!"]))
    g = list(GAMES)
    s.rng.shuffle(g)
    s.add("They {g1}. Then they {g2}.", "First they {g1}, and then they {g2}.", "They {g1} and laughed a lot.",
          g1=g[0], g2=g[1])
    s.add("When the sun went down, {h} had to go home.", "Soon it was time to go home.")
    s.say("{f}", s.pick(["Will you come back tomorrow?", "Can we play again tomorrow?"]))
    s.say("{h}", s.pick(["Yes, I will!", "Of course! See you tomorrow!"]))
    ending(s, "{h} was not lonely anymore. {He} had a new friend.",
           "From that day on, {h} and {f} played together every day.",
           "{h} went home with a big smile. {He} had found a friend.", He=cap(h.he))


TROUBLES = [  # (who, trouble, cry for help, the rescue, after)
    ("kitten", "was stuck high up in a tree", "Help! I cannot get down!",
     "{h} found a long ladder. {He} climbed up slowly and carried the kitten down.",
     "The kitten purred and rubbed against {h}'s leg."),
    ("bird", "had a hurt wing and could not fly", "My wing hurts. I cannot fly home.",
     "{h} made a soft bed in a box and gave the bird some water and seeds.",
     "After a few days, the bird's wing was better. It flew up and sang a happy song."),
    ("duckling", "had lost its mother", "Where is my mom? I cannot find her!",
     "{h} walked with the duckling along the water until they found the mother duck.",
     "The mother duck quacked with joy, and the duckling swam to her."),
    ("puppy", "was stuck in a deep hole", "Help me, please! I cannot get out!",
     "{h} lay down on the ground, reached into the hole, and pulled the puppy out.",
     "The puppy licked {h}'s face and wagged its tail."),
    ("turtle", "was on its back and could not turn over", "Oh no! I am upside down!",
     "{h} gently turned the turtle over onto its feet.", "The turtle smiled and slowly walked to the water."),
    ("bunny", "was caught in a fence", "Please help! My foot is stuck!",
     "{h} pulled the fence apart very carefully, and the bunny was free.",
     "The bunny hopped around in a happy circle."),
    ("little boy", "had lost his red balloon up in a tree", "My balloon! I cannot reach it!",
     "{h} found a long stick and gently pulled the string down.",
     "The little boy smiled and held his balloon tight."),
    ("old man", "had dropped all his apples on the road", "Oh dear, my apples are everywhere!",
     "{h} picked up the apples one by one and put them back in the bag.",
     "The old man gave {h} the biggest, reddest apple."),
]


def arc_help(s):
    h, place = s.hero, s.pick(PLACE_NAMES)
    who, trouble, cry, rescue, after = s.pick(TROUBLES)
    opening(s)
    s.add("{when}, {h} went for a walk to {place}.", "{when}, {h} went to {place} to play.", when=when(s),
          place=place)
    if s.chance(0.5):
        place_detail(s, place)
    s.add("Suddenly, {he} heard a small voice.", "Then {h} heard a sad sound.", "{h} heard someone crying.")
    s.add("It was {a_who}. It {trouble}.", "{h} saw {a_who} that {trouble}.",
          a_who=with_article(who), trouble=trouble.replace("his ", "its ") if who not in ("little boy", "old man")
          else trouble)
    if s.sents[-1].startswith("It was a little boy") or s.sents[-1].startswith("It was an old man"):
        s.sents[-1] = s.f("It was {a_who}. He {trouble}.", a_who=with_article(who), trouble=trouble)
    s.say("the " + who, cry)
    s.add("{h} wanted to help.", "{h} knew {he} had to help.", "{h} thought for a moment.")
    if s.chance(0.3):
        s.say("{h}", s.pick(["Do not worry. I will help you!", "I am coming!", "Hold on, I will help!"]))
    s.sents.append(s.f(rescue, He=cap(h.he)))
    s.sents.append(s.f(after))
    s.say("the " + who, s.pick(["Thank you! You are very kind.", "Thank you for helping me!",
                                "Thank you so much!"]))
    s.add("{h} felt warm and happy inside.", "{h} smiled. It felt good to help.")
    parent = s.pick(["mom", "dad"])
    ending(s, "{h} learned that it feels good to help others.",
           "From then on, the {who} and {h} were good friends.",
           "That night, {h} told {his} {parent} all about it. {pr} was very proud of {him}.",
           who=who, parent=parent, pr="She" if parent == "mom" else "He")


# All plural, so that both "there were ..." and "they found ..." read right.
TREASURES = ["shiny gold coins", "old toys and tiny music boxes", "pretty stones of many colors",
             "old maps of the stars", "little silver keys and old letters", "colorful marbles",
             "seeds for a magic garden", "old photos of the village"]
MAP_PLACES = ["in {his} grandpa's attic", "under {his} bed", "inside an old book", "in a bottle on the beach",
              "behind a loose brick in the wall"]
LANDMARKS = ["the tallest tree in the forest", "the old bridge", "a big gray rock", "the top of the hill",
             "the old well behind the farm"]
OBSTACLES = [("a little stream", "They jumped from stone to stone to get across."),
             ("a thick bush", "They crawled under it very carefully."),
             ("a steep hill", "They held hands and climbed up slowly."),
             ("a dark tunnel", "They held hands and walked through. It was not so scary together."),
             ("a big fallen tree", "They climbed over it one by one.")]


def arc_treasure(s):
    h = s.hero
    opening(s)
    s.add("{when}, {h} found an old map {where}.", "{when}, {h} found a strange map {where}.",
          when=when(s), where=s.pick(MAP_PLACES).format(his=h.his))
    landmark = s.pick(LANDMARKS)
    s.add("The map had a big red X near {lm}.", "On the map, there was an X next to {lm}.", lm=landmark)
    s.say("{h}", s.pick(["Maybe there is a treasure!", "I want to find out what is there!"]))
    s.friend = s.new_char()
    s.add("{h} asked {his} friend {f} to come along.", "{h} ran to tell {his} friend {f}.")
    s.say("{f}", s.pick(["Let's go!", "What an adventure! I will come with you.", "Yes! Let's find it!"]))
    s.add("They walked for a long time.", "They followed the map past the houses and into the woods.",
          "They packed some snacks and set off.")
    obst, solve = s.pick(OBSTACLES)
    s.add("Soon they came to {o}.", "Then they saw {o} in front of them.", o=obst)
    s.sents.append(solve)
    s.add("At last, they reached {lm}.", "Finally, they came to {lm}.", lm=landmark)
    s.add("{h} dug in the ground. Soon {he} found a small wooden box.",
          "{f} saw something under some leaves. It was a little box!")
    s.add("Inside the box there were {t}.", "They opened the box. Inside, they found {t}!", t=s.pick(TREASURES))
    s.say("{f}", s.pick(["Wow! We found it!", "Look at that!", "It is a real treasure!"]))
    s.add("They carried the box home and showed it to {h}'s {p}.", "They shared the treasure and went home happy.",
          p=s.pick(PARENTS))
    ending(s, "It was the best adventure ever.", "{h} and {f} could not wait for their next adventure.",
           "{h} kept the map in a safe place, just in case.")


def arc_bake(s):
    h = s.hero
    food, a_food = s.pick(FOODS)
    parent = s.pick(PARENTS)
    it = "them" if food.endswith("s") else "it"
    opening(s)
    s.add("{when}, {h} and {his} {p} wanted to make {a_food} for {occ}.",
          "{when}, {h} helped {his} {p} make {a_food} for {occ}.", when=when(s), p=parent, a_food=a_food,
          occ=s.pick(OCCASIONS))
    s.add("They got flour, eggs, sugar and milk.", "First, they put on their aprons and washed their hands.",
          "They took out a big bowl and a wooden spoon.")
    s.add("{h} mixed everything in the bowl.", "{h} poured the milk and stirred and stirred.")
    s.add("Oops! {h} dropped an egg on the floor.", "Puff! The flour went all over {h}'s face.",
          "Oh no! The bowl tipped over, and milk spilled on the table.")
    s.add("{h} and {his} {p} laughed and laughed.", "{h} felt bad, but {his} {p} just smiled.", p=parent)
    s.say("{his} {p}", s.pick(["That is okay. We can clean it up and try again.",
                               "Everyone makes mistakes. Let's try again."]), p=parent)
    s.add("They cleaned up and started again.", "This time, {h} was very careful.")
    s.add("They put the {food} in the oven.", "Soon the {food} went into the hot oven.", food=food)
    s.add("Soon the whole house smelled sweet and warm.", "They waited and waited. The kitchen smelled so good.")
    verb = "were" if food.endswith("s") else "was"
    s.add("When the {food} {verb} ready, {h} took a big bite.", "At last, the {food} {verb} ready.",
          food=food, verb=verb)
    s.say("{h}", s.pick(["This is the best {food} ever!", "Yum! I made {it} myself!"]), food=food, it=it)
    ending(s, "{h} shared the {food} with everyone, and they all said thank you.",
           "{h} learned that mistakes are okay, as long as you try again.",
           "{h} wanted to bake again the very next day.", food=food)


INSIDE = [("built a fort with blankets and pillows", "fort"), ("drew pictures with crayons", "pictures"),
          ("read a story about a brave knight", "story"), ("built a tall tower with blocks", "tower"),
          ("made a puppet show with old socks", "show"), ("played a board game", "game")]


def arc_rain(s):
    h, place = s.hero, s.pick(PLACE_NAMES)
    act = s.pick(PLACES[place][1])
    parent = s.pick(PARENTS)
    opening(s)
    s.add("{when}, {h} wanted to go to {place}.", "{h} had a plan. {He} wanted to go to {place} today.",
          when=s.pick(["One Saturday morning", "One day", "One morning"]), place=place, He=cap(h.he))
    s.add("But then it started to rain.", "But when {he} looked out the window, dark clouds filled the sky.",
          "But it began to rain very hard.")
    s.add("{h} was sad.", "{h} felt grumpy and sat by the window.", "{h} frowned.")
    s.say("{h}", s.pick(["Now I cannot go out to play!", "Why does it have to rain today?"]))
    s.say("{his} {p}", s.pick(["We can have fun inside too.", "I have an idea. Let's play inside!"]), p=parent)
    ins = list(INSIDE)
    s.rng.shuffle(ins)
    s.add("They {a}. Then they {b}.", "First, they {a}. After that, they {b}.", a=ins[0][0], b=ins[1][0])
    s.add("{h} laughed and laughed.", "It was a lot of fun.", "{h} forgot all about the rain.")
    s.add("Later, the rain stopped.", "After a while, the sun came out again.")
    s.add("A big rainbow appeared in the sky.", "There was a beautiful rainbow over the houses.")
    s.say("{h}", s.pick(["Look, a rainbow!", "Wow, it is so pretty!"]))
    if s.chance(0.6):
        s.add("Then {h} and {his} {p} went to {place} and {act}.", p=parent, place=place, act=verb_form(act, 0))
    ending(s, "It was a wonderful day after all.", "{h} learned that a rainy day can be fun too.",
           "{h} was glad it had rained.")


RULES = [  # (rule, what happened, the fix)
    ("do not play ball in the house", "{h} kicked the ball, and it hit a vase. Crash! The vase broke.",
     "Together, they cleaned up the pieces."),
    ("do not climb the tall tree", "{h} climbed up high, but then {he} slipped and fell. {He} hurt {his} knee.",
     "{hparent} put a bandage on the knee and gave {him} a hug."),
    ("do not jump in the mud", "{h} jumped in a big puddle of mud. Splash! {His} new clothes were all dirty.",
     "They washed the clothes together."),
    ("do not eat the cookies before dinner", "{h} ate five cookies. Then {his} tummy hurt, and {he} could not "
     "eat any dinner.", "{hparent} made {him} a warm cup of tea."),
    ("do not go near the pond alone", "{h} went to the pond and slipped. {He} fell into the cold water.",
     "{hparent} helped {him} out and wrapped {him} in a warm towel."),
    ("do not draw on the walls", "{h} drew a big sun on the wall with {his} crayons.",
     "They washed the wall together with soap and water."),
    ("do not run on the wet floor", "{h} ran across the kitchen and slipped. Bump! {He} fell down.",
     "{hparent} helped {him} up and kissed {his} head."),
]


def arc_listen(s):
    h = s.hero
    rule, oops, fix = s.pick(RULES)
    parent = s.pick(["mom", "dad"])
    opening(s)
    s.say("{his} {p}", "{hname}, please " + rule + ".", p=parent)
    s.add("But {h} did not listen.", "{h} nodded, but {he} did not really listen.",
          "{h} heard {pobj}, but {he} forgot.", pobj="her" if parent == "mom" else "him")
    s.add("Soon {he} wanted to have some fun.", "When {his} {p} went to the kitchen, {h} had an idea.",
          "{h} thought it would be fun.", p=parent)
    s.sents.append(s.f(oops, He=cap(h.he), His=cap(h.his)))
    s.add("{h} began to cry.", "{h} felt very sorry.", "{h} knew {he} had done something wrong.")
    s.add("{His} {p} came running.", "{h}'s {p} heard the noise and came to see.", His=cap(h.his), p=parent)
    s.say("{h}", s.pick(["I am sorry. I did not listen.", "I am so sorry! I should have listened."]))
    pr = "She" if parent == "mom" else "He"
    s.add("{His} {p} gave {h} a big hug.", "{h}'s {p} was not angry. {pr} held {h} close.", pr=pr, p=parent)
    s.say("{his} {p}", s.pick(["It is okay. Now you know why we have rules.",
                               "I am glad you said sorry. Rules keep you safe."]), p=parent)
    s.sents.append(s.f(fix, hparent=f"{cap(h.his)} {parent}"))
    ending(s, "{h} learned to listen to {his} {p}.", "From that day on, {h} always listened.",
           "{h} never did that again.", p=parent)


def arc_save(s):
    h = s.hero
    obj = s.pick(OBJECT_NAMES)
    col = s.pick(COLORS)
    opening(s)
    s.add("{when}, {h} saw {a_obj} in the window of a toy shop.", "{when}, {h} and {his} {p} walked past a shop. "
          "In the window, there was {a_obj}.", when=when(s), a_obj=with_article(col + " " + obj), p=s.pick(PARENTS))
    s.add("{h} wanted it very much.", "It was the best {obj} {h} had ever seen.", obj=obj)
    s.add("But {h} did not have enough money.", "But it cost ten coins, and {h} only had two.")
    s.say("{h}", s.pick(["I will save my coins!", "I will work hard and buy it myself."]))
    s.add("Every day, {h} helped at home.", "So {h} found ways to help.")
    chores = ["fed the cat", "watered the plants", "helped wash the dishes", "swept the floor",
              "folded the clothes", "helped the neighbor carry bags", "picked apples in the garden"]
    s.rng.shuffle(chores)
    s.add("{He} {a} and {b}.", "{He} {a}, {b}, and {c}.", He=cap(h.he), a=chores[0], b=chores[1], c=chores[2])
    s.add("Each time, {he} put a coin in {his} piggy bank.", "{h} put every coin in a little jar.")
    s.add("After many days, {h} counted the coins. {He} had enough!",
          "One morning, the jar was full.", He=cap(h.he))
    s.add("{h} ran to the shop and bought the {col} {obj}.", "{h} went to the shop and bought the {obj}.",
          obj=obj, col=col)
    s.add("{He} {play}.", "That day, {h} {play}.", He=cap(h.he), play=obj_play(s, obj))
    ending(s, "{h} was proud, because {he} had worked hard for it.",
           "{h} learned that good things come to those who wait.", "It was the best day ever.")


def arc_race(s):
    # A fast animal and a slow one, told in the old fable's shape with our own words.
    fast_kinds = ["bunny", "fox", "horse", "dog", "squirrel", "puppy"]
    slow_kinds = ["turtle", "frog", "duck", "cow", "pig"]
    s.hero = s.new_char(animal=True)
    s.hero.kind = s.pick(slow_kinds)
    s.friend = s.new_char(animal=True)
    s.friend.kind = s.pick(fast_kinds)
    h, fr = s.hero, s.friend
    s.add("Once upon a time, there was a slow {hkind} named {hname} and a fast {fkind} named {fname}.",
          "{hname} was {a_h}. {hname} was slow, but {hhe} never gave up.", a_h=with_article(h.adj + " " + h.kind))
    if not s.sents[-1].startswith("Once"):
        s.add("{f} was {a_f}. {f} was very fast, and {fhe} liked to show off.", a_f=with_article(fr.adj + " " + fr.kind))
    s.say("{f}", s.pick(["You are so slow! I can beat you in a race.", "Let's have a race. I will win!"]))
    s.say("{h}", s.pick(["Okay. Let's race to the big tree.", "Let's see who wins."]))
    s.add("All the animals came to watch.", "The birds and the mice came to watch the race.")
    s.add("Ready, set, go! {f} ran very fast.", "The race began. {f} was far ahead in no time.")
    s.add("{h} went slowly, step by step.", "{h} kept going, slow and steady.")
    s.add("{f} looked back and laughed. {fHe} sat down under a tree to rest.",
          "{f} was so far ahead that {fhe} stopped to eat some berries.", fHe=cap(fr.he))
    s.add("Soon {f} fell asleep.", "Then {f} lay down and took a nap.")
    s.add("{h} walked past {f} and kept going.", "{h} did not stop. {hHe} walked on and on.", hHe=cap(h.he))
    s.add("When {f} woke up, {h} was almost at the big tree!", "{f} woke up and ran as fast as {fhe} could.")
    s.add("But it was too late. {h} won the race!", "{h} reached the tree first. {hHe} won!", hHe=cap(h.he))
    s.add("All the animals cheered.", "Everyone clapped for {h}.")
    s.say("{f}", s.pick(["You won! I am sorry I laughed at you.", "Good job. I should not have stopped."]))
    ending(s, "{f} learned that slow and steady wins the race.",
           "From then on, {f} never made fun of anyone again.",
           "{h} and {f} became good friends after that.")


def arc_picnic(s):
    h, place = s.hero, s.pick(["the park", "the meadow", "the beach", "the hill", "the lake", "the garden"])
    s.friend = s.new_char()
    food = list(PICNIC_FOOD)
    s.rng.shuffle(food)
    opening(s)
    s.add("{when}, {h} and {f} went on a picnic.", "{when}, {h} and {his} friend {f} wanted to have a picnic.",
          when=when(s))
    s.add("They packed a basket with {a}, {b} and {c}.", "They put {a}, {b} and {c} in a big basket.",
          a=food[0], b=food[1], c=food[2])
    s.add("They walked to {place} and found a nice spot.", "They went to {place} and put a blanket on the "
          "grass.", place=place)
    place_detail(s, place)
    trouble = s.rng.randrange(3)
    if trouble == 0:
        s.add("But then, a line of ants came to the blanket!", "Soon, some ants marched toward the food.")
        s.say("{f}", "Look! The ants want a picnic too!")
        s.add("{h} laughed and put a little piece of bread on the grass for the ants.")
    elif trouble == 1:
        s.add("Then a big wind came and blew the napkins away!", "Suddenly, the wind picked up the napkins.")
        s.add("{h} and {f} ran after them, laughing all the way.")
    else:
        s.add("Then a little dog came running. It wanted a sandwich!",
              "A hungry little dog came and sat next to them.")
        s.say("{h}", "Here you go, little dog.")
        s.add("The little dog ate the food and wagged its tail.")
    s.add("They ate the {a} and the {b}.", "They ate and talked and laughed.", a=food[0], b=food[1])
    s.add("After lunch, they {act}.", act=verb_form(s.pick(PLACES[place][1]), 0))
    s.say("{f}", s.pick(["This is the best picnic ever!", "Let's do this again soon."]))
    ending(s, "When the sun went down, they walked home, tired and happy.",
           "It was a perfect day with a good friend.", "{h} and {f} never forgot that picnic.")


ARCS = [(arc_lost, 3), (arc_share, 3), (arc_fear, 2), (arc_friend, 3), (arc_help, 3), (arc_treasure, 2),
        (arc_bake, 2), (arc_rain, 2), (arc_listen, 2), (arc_save, 2), (arc_race, 1), (arc_picnic, 2)]


def make_story(rng):
    s = Story(rng)
    s.hero = s.new_char()
    arcs, weights = zip(*ARCS)
    arc = rng.choices(arcs, weights=weights)[0]
    arc(s)
    return s.text()


def write_split(path, seed, target_bytes):
    rng = random.Random(seed)
    n = size = 0
    with open(path, "w", encoding="ascii", newline="\n") as out:
        while size < target_bytes:
            story = make_story(rng)
            assert "\n" not in story and "{" not in story, story
            out.write(story + "\n")
            size += len(story) + 1
            n += 1
    return n, size


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="/tmp/origami-default-model/corpus", help="output folder")
    p.add_argument("--train-mb", type=float, default=TRAIN_MB, help="size of train.txt in MB")
    p.add_argument("--valid-mb", type=float, default=VALID_MB, help="size of valid.txt in MB")
    p.add_argument("--seed", type=int, default=TRAIN_SEED, help="seed of the training split")
    p.add_argument("--valid-seed", type=int, default=VALID_SEED, help="seed of the validation split")
    p.add_argument("--print", type=int, default=0, metavar="N", help="just print N stories and exit")
    a = p.parse_args()
    if a.print:
        rng = random.Random(a.seed)
        for _ in range(a.print):
            print(make_story(rng) + "\n")
        return
    os.makedirs(a.out, exist_ok=True)
    for name, seed, mb in (("train", a.seed, a.train_mb), ("valid", a.valid_seed, a.valid_mb)):
        n, size = write_split(os.path.join(a.out, name + ".txt"), seed, int(mb * 1e6))
        print(f"{name}: {n} stories, {size / 1e6:.2f} MB (seed {seed})")


if __name__ == "__main__":
    main()
