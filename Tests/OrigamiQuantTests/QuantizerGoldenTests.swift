import Foundation
import OrigamiKernels
import OrigamiQuant
import OrigamiTensor
import Testing

/// The quantizers against bitsandbytes 0.50.2 on CPU (Scripts/make_quant_goldens.py), bit for bit.
@Suite struct CodeBookTests {
    @Test func tablesEqualBitsandbytes() throws {
        let f = try FixtureFile("codebooks.safetensors")
        #expect(bits(CodeBooks.nf4) == bits(try f.floats("nf4")))
        #expect(bits(CodeBooks.fp4) == bits(try f.floats("fp4")))
        #expect(bits(CodeBooks.dynamic) == bits(try f.floats("dynamic")))
        #expect(CodeBooks.fp4SortOrder == (try f.ints("fp4_order")))
        #expect(try f.ints("nf4_order") == Array(0..<16))
    }

    @Test func bucketsFollowTorchBucketize() throws {
        // A value equal to a midpoint goes to the lower bucket (right=False); just above it goes up.
        let f = try FixtureFile("codebooks.safetensors")
        for type in FourBitType.allCases {
            let mids = try f.floats("\(type.rawValue)_midpoints")
            let order = try f.ints("\(type.rawValue)_order")
            let probes: [Float] = mids.flatMap { [$0, $0.nextUp, $0.nextDown] } + [-1, 1, 0, -0.0, 2, -2]
            for x in probes {
                let bucket = mids.filter { $0 < x }.count
                let packed = Blockwise4Bit.quantize([x, 1], type: type, blockSize: 32).packed
                #expect(Int(packed[0] >> 4) == order[bucket], "\(type) x=\(x)")
            }
        }
    }
}

@Suite struct Blockwise4BitGoldenTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String, weight: String, type: FourBitType, blockSize: Int, doubleQuant: Bool, dequant: Bool
        let offsetRepr: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let manifest = try! json(quantFixtures.appendingPathComponent("blockwise.json"))
        return (manifest["cases"] as! [[String: Any]]).map {
            Case(name: $0["name"] as! String, weight: $0["weight"] as! String,
                 type: FourBitType(rawValue: $0["quant_type"] as! String)!, blockSize: $0["blocksize"] as! Int,
                 doubleQuant: $0["double_quant"] as! Bool, dequant: $0["dequant"] as! Bool,
                 offsetRepr: $0["nested_offset_repr"] as? String)
        }
    }()

    @Test(arguments: cases)
    func codesAndAbsmaxAreBitIdentical(_ c: Case) throws {
        let weights = try FixtureFile("weights.safetensors")
        let golden = try FixtureFile("blockwise.safetensors")
        let src = try weightSource(weights, c.weight)
        let w = try FourBitWeight(quantizing: src, type: c.type, blockSize: c.blockSize, doubleQuant: c.doubleQuant)
        #expect(Array(w.packed.bytes) == (try golden.bytes(c.name + ".codes")), "\(c.name): codes")
        switch w.absmax {
        case .plain(let a):
            #expect(!c.doubleQuant)
            #expect(bits(a.toFloatArray()) == bits(try golden.floats(c.name + ".absmax")), "\(c.name): absmax")
        case .double(let codes, let nested, let offset, _, let nb):
            #expect(c.doubleQuant && nb == 256)
            #expect(Array(codes.bytes) == (try golden.bytes(c.name + ".absmax")), "\(c.name): absmax codes")
            #expect(bits(nested.toFloatArray()) == bits(try golden.floats(c.name + ".nested_absmax")), "\(c.name): nested absmax")
            #expect(offset.bitPattern == (try golden.floats(c.name + ".offset"))[0].bitPattern, "\(c.name): offset")
            #expect(BitsAndBytesFormat.pythonFloatRepr(offset) == c.offsetRepr, "\(c.name): offset as Python prints it")
        }
        if c.dequant {
            let out = [Float](unsafeUninitializedCapacity: src.count) { buf, n in
                w.dequantize(0, src.count, into: buf.baseAddress!)
                n = src.count
            }
            #expect(bits(out) == bits(try golden.floats(c.name + ".dequant")), "\(c.name): dequantized")
        }
    }
}

@Suite struct Int8GoldenTests {
    @Test(arguments: ["A", "B", "C", "D"])
    func vectorwiseCodesAndScalesAreBitIdentical(_ name: String) throws {
        let weights = try FixtureFile("weights.safetensors")
        let golden = try FixtureFile("int8.safetensors")
        let w = try Int8Weight(quantizing: try weightSource(weights, name), threshold: nil)
        #expect(Array(w.codes.bytes).map { Int8(bitPattern: $0) } == (try golden.int8s("\(name).int8.codes")))
        #expect(bits(w.scales.array) == bits(try golden.floats("\(name).int8.scb")))
        #expect(bits(RowwiseInt8.weightScales(try weightSource(weights, name))) == bits(try golden.floats("\(name).int8.scb")))
    }

    @Test(arguments: ["A", "B", "C", "D"])
    func zeroPointMatchesItsFormula(_ name: String) throws {
        let weights = try FixtureFile("weights.safetensors")
        let golden = try FixtureFile("int8.safetensors")
        let src = try weightSource(weights, name)
        let w = try Int8ZeroPointWeight(quantizing: src)
        #expect(Array(w.codes.bytes) == (try golden.bytes("\(name).int8zp.codes")))
        #expect(bits(w.scales.array) == bits(try golden.floats("\(name).int8zp.scale")))
        #expect(w.zeros == (try golden.bytes("\(name).int8zp.zero")))
        let (s, z) = RowwiseInt8.zeroPointParameters(src)
        #expect(bits(s) == bits(w.scales.array) && z == w.zeros)
    }
}
