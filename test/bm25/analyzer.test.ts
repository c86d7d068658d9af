/**
 * The English analyzer against Lucene's behaviour: StandardTokenizer cases from Lucene's own
 * TestStandardAnalyzer, the possessive filter, the 33-word stop set, and Porter stems from Martin Porter's
 * published examples and sample vocabulary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stemmer } from 'stemmer';
import {
  ENGLISH_STOP_WORDS, createEnglishAnalyzer, lowerCaseJava, stripPossessive, tokenizeStandard,
} from '../../src/bm25/analyzer.js';

test('StandardTokenizer: Lucene TestStandardAnalyzer cases', () => {
  const cases: Array<[string, string[]]> = [
    ['C embedded developers wanted', ['C', 'embedded', 'developers', 'wanted']],
    ['foo      bar .  FOO <> BAR', ['foo', 'bar', 'FOO', 'BAR']],
    ['"QUOTED" word', ['QUOTED', 'word']],
    ["O'Reilly you're she's Jim's don't O'Reilly's", ["O'Reilly", "you're", "she's", "Jim's", "don't", "O'Reilly's"]],
    ['21.35 R2D2 C3PO 216.239.63.104', ['21.35', 'R2D2', 'C3PO', '216.239.63.104']],
    ['David has 5000 bones', ['David', 'has', '5000', 'bones']],
    ['B2B 2B', ['B2B', '2B']],
    ['C++ C#', ['C', 'C']],
    // ':' is MidLetter: it joins letters on both sides only.
    ['A:B', ['A:B']], ['A::B', ['A', 'B']],
    ['1.2', ['1.2']], ['A.B', ['A.B']], ['1..2', ['1', '2']], ['A..B', ['A', 'B']],
    ['1,2', ['1,2']], ['1,,2', ['1', '2']],
    ['U.S.A. e-mail 1.a foo_bar ___', ['U.S.A', 'e', 'mail', '1', 'a', 'foo_bar']],
  ];
  for (const [text, want] of cases) assert.deepEqual(tokenizeStandard(text), want, text);
});

test('StandardTokenizer: Lucene TestStandardAnalyzer mid-letter, mid-number and underscore cases', () => {
  const cases: Array<[string, string[]]> = [
    ['A.:B', ['A', 'B']], ['A:.B', ['A', 'B']], ['1,.2', ['1', '2']], ['1.,2', ['1', '2']],
    ['A:B_A:B', ['A:B_A:B']], ['A:B_A::B', ['A:B_A', 'B']], ['1.2_1.2', ['1.2_1.2']], ['A.B_A.B', ['A.B_A.B']],
    ['1.2_1..2', ['1.2_1', '2']], ['A.B_A..B', ['A.B_A', 'B']], ['1,2_1,2', ['1,2_1,2']], ['1,2_1,,2', ['1,2_1', '2']],
    ['C_A.:B', ['C_A', 'B']], ['C_A:.B', ['C_A', 'B']], ['3_1,.2', ['3_1', '2']], ['3_1.,2', ['3_1', '2']],
    ['some-dashed-phrase', ['some', 'dashed', 'phrase']], ['dogs,chase,cats', ['dogs', 'chase', 'cats']], ['ac/dc', ['ac', 'dc']],
    ['', []], ['.', []], [' ', []],
  ];
  for (const [text, want] of cases) assert.deepEqual(tokenizeStandard(text), want, text);
});

test('StandardTokenizer: Lucene TestStandardAnalyzer scripts', () => {
  const cases: Array<[string, string[]]> = [
    ['Γράφεται σε συνεργασία από εθελοντές με το λογισμικό wiki, κάτι που σημαίνει ότι άρθρα μπορεί να προστεθούν ή να αλλάξουν από τον καθένα.',
      ['Γράφεται', 'σε', 'συνεργασία', 'από', 'εθελοντές', 'με', 'το', 'λογισμικό', 'wiki', 'κάτι', 'που', 'σημαίνει', 'ότι', 'άρθρα', 'μπορεί', 'να', 'προστεθούν', 'ή', 'να', 'αλλάξουν', 'από', 'τον', 'καθένα']],
    ['ویکی پدیای انگلیسی در تاریخ ۲۵ دی ۱۳۷۹ به صورت مکملی برای دانشنامهٔ تخصصی نوپدیا نوشته شد.',
      ['ویکی', 'پدیای', 'انگلیسی', 'در', 'تاریخ', '۲۵', 'دی', '۱۳۷۹', 'به', 'صورت', 'مکملی', 'برای', 'دانشنامهٔ', 'تخصصی', 'نوپدیا', 'نوشته', 'شد']],
    ['এই বিশ্বকোষ পরিচালনা করে উইকিমিডিয়া ফাউন্ডেশন (একটি অলাভজনক সংস্থা)। উইকিপিডিয়ার শুরু ১৫ জানুয়ারি, ২০০১ সালে। এখন পর্যন্ত ২০০টিরও বেশী ভাষায় উইকিপিডিয়া রয়েছে।',
      ['এই', 'বিশ্বকোষ', 'পরিচালনা', 'করে', 'উইকিমিডিয়া', 'ফাউন্ডেশন', 'একটি', 'অলাভজনক', 'সংস্থা', 'উইকিপিডিয়ার', 'শুরু', '১৫', 'জানুয়ারি', '২০০১', 'সালে', 'এখন', 'পর্যন্ত', '২০০টিরও', 'বেশী', 'ভাষায়', 'উইকিপিডিয়া', 'রয়েছে']],
    ['การที่ได้ต้องแสดงว่างานดี. แล้วเธอจะไปไหน? ๑๒๓๔', ['การที่ได้ต้องแสดงว่างานดี', 'แล้วเธอจะไปไหน', '๑๒๓๔']],
    ['ສາທາລະນະລັດ ປະຊາທິປະໄຕ ປະຊາຊົນລາວ', ['ສາທາລະນະລັດ', 'ປະຊາທິປະໄຕ', 'ປະຊາຊົນລາວ']],
    ['我是中国人。 １２３４ Ｔｅｓｔｓ ', ['我', '是', '中', '国', '人', '１２３４', 'Ｔｅｓｔｓ']],
    ['𩬅艱鍟䇹愯瀛', ['𩬅', '艱', '鍟', '䇹', '愯', '瀛']],
    ['仮名遣い カタカナ', ['仮', '名', '遣', 'い', 'カタカナ']],
    ['안녕하세요 한글입니다', ['안녕하세요', '한글입니다']],
    ['moͤchte', ['moͤchte']],
    ['ざ ザ 壹゙ 아゙', ['ざ', 'ザ', '壹゙', '아゙']],
    ['コーヒー \u0001\u3031 ｶﾞ', ['コーヒー', '\u3031', 'ｶﾞ']], // Katakana-class marks of the Common script
  ];
  for (const [text, want] of cases) assert.deepEqual(tokenizeStandard(text), want, text);
});

test('StandardTokenizer: non-ASCII text', () => {
  assert.deepEqual(tokenizeStandard('naïve café α-synuclein'), ['naïve', 'café', 'α', 'synuclein']);
  assert.deepEqual(tokenizeStandard('cafe\u0301 co\u00adoperate'), ['cafe\u0301', 'co\u00adoperate']); // marks, soft hyphen stay
  assert.deepEqual(tokenizeStandard('中文字'), ['中', '文', '字']); // one token per ideograph
  assert.deepEqual(tokenizeStandard('カタカナ語'), ['カタカナ', '語']);
  assert.deepEqual(tokenizeStandard('x 𝐀𝐁 y'), ['x', '𝐀𝐁', 'y']); // astral letters
});

test('StandardTokenizer splits words longer than 255 UTF-16 units', () => {
  const long = 'a'.repeat(600);
  assert.deepEqual(tokenizeStandard(long).map((t) => t.length), [255, 255, 90]);
});

test('possessive filter, Java lower-casing, 33 stop words', () => {
  assert.equal(stripPossessive("John's"), 'John');
  assert.equal(stripPossessive('JOHN\u2019S'), 'JOHN');
  assert.equal(stripPossessive("cats'"), "cats'");
  assert.equal(lowerCaseJava('ΟΔΟΣ İSTANBUL'), 'οδοσ istanbul'); // no final sigma, no dotted i
  assert.equal(ENGLISH_STOP_WORDS.size, 33);
  for (const w of ['a', 'the', 'with', 'will', 'into', 'such', 'their']) assert.ok(ENGLISH_STOP_WORDS.has(w), w);
  for (const w of ['i', 'he', 'from', 'have']) assert.ok(!ENGLISH_STOP_WORDS.has(w), w);
});

test('Porter stemmer: published examples of the algorithm (Porter 1980, and the reference C/Java version)', () => {
  const pairs: Array<[string, string]> = [
    ['caresses', 'caress'], ['ponies', 'poni'], ['ties', 'ti'], ['caress', 'caress'], ['cats', 'cat'],
    ['feed', 'feed'], ['agreed', 'agre'], ['plastered', 'plaster'], ['bled', 'bled'], ['motoring', 'motor'],
    ['sing', 'sing'], ['conflated', 'conflat'], ['troubled', 'troubl'], ['sized', 'size'], ['hopping', 'hop'],
    ['tanned', 'tan'], ['falling', 'fall'], ['hissing', 'hiss'], ['fizzed', 'fizz'], ['failing', 'fail'],
    ['filing', 'file'], ['happy', 'happi'], ['sky', 'sky'], ['relational', 'relat'], ['conditional', 'condit'],
    ['rational', 'ration'], ['valenci', 'valenc'], ['hesitanci', 'hesit'], ['digitizer', 'digit'],
    ['conformabli', 'conform'], ['radicalli', 'radic'], ['differentli', 'differ'], ['vileli', 'vile'],
    ['analogousli', 'analog'], ['vietnamization', 'vietnam'], ['predication', 'predic'], ['operator', 'oper'],
    ['feudalism', 'feudal'], ['decisiveness', 'decis'], ['hopefulness', 'hope'], ['callousness', 'callous'],
    ['formaliti', 'formal'], ['sensitiviti', 'sensit'], ['sensibiliti', 'sensibl'], ['triplicate', 'triplic'],
    ['formative', 'form'], ['formalize', 'formal'], ['electriciti', 'electr'], ['electrical', 'electr'],
    ['hopeful', 'hope'], ['goodness', 'good'], ['revival', 'reviv'], ['allowance', 'allow'],
    ['inference', 'infer'], ['airliner', 'airlin'], ['gyroscopic', 'gyroscop'], ['adjustable', 'adjust'],
    ['defensible', 'defens'], ['irritant', 'irrit'], ['replacement', 'replac'], ['adjustment', 'adjust'],
    ['dependent', 'depend'], ['adoption', 'adopt'], ['homologou', 'homolog'], ['communism', 'commun'],
    ['activate', 'activ'], ['angulariti', 'angular'], ['homologous', 'homolog'], ['effective', 'effect'],
    ['bowdlerize', 'bowdler'], ['probate', 'probat'], ['rate', 'rate'], ['cease', 'ceas'],
    ['controll', 'control'], ['roll', 'roll'], ['generalizations', 'gener'], ['oscillators', 'oscil'],
    // From the sample vocabulary (voc.txt / output.txt).
    ['consign', 'consign'], ['consigned', 'consign'], ['consignment', 'consign'], ['consistency', 'consist'],
    ['consolatory', 'consolatori'], ['consolidating', 'consolid'], ['conspiracy', 'conspiraci'],
    ['conspicuously', 'conspicu'], ['constable', 'constabl'], ['constancy', 'constanc'],
    ['knackeries', 'knackeri'], ['kneeling', 'kneel'], ['knightly', 'knightli'], ['knitting', 'knit'],
    ['knives', 'knive'], ['knocker', 'knocker'],
    // The reference implementation's departures from the 1980 paper, which Lucene's PorterStemmer keeps.
    ['possibly', 'possibl'], ['archaeology', 'archaeolog'],
    // Words of one or two letters are left alone.
    ['is', 'is'], ['as', 'as'],
  ];
  for (const [w, s] of pairs) assert.equal(stemmer(w), s, w);
});

test('English analyzer: the whole chain', () => {
  const a = createEnglishAnalyzer();
  assert.deepEqual(a("The cats' owner's RUNNING"), ['cat', 'owner', 'run']);
  assert.deepEqual(a('Is it the IL-6 receptor?'), ['il', '6', 'receptor']);
  assert.deepEqual(createEnglishAnalyzer({ stem: false })('The Cats'), ['cats']);
  assert.deepEqual(createEnglishAnalyzer({ stopWords: false })('The Cats'), ['the', 'cat']);
});
