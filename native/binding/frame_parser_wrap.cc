// FrameParser: one call per socket chunk. Packets are described in a caller-owned Int32Array
// (12 words each, layout in src/native/frame-format.ts); bulky or rare fields are records returned
// by takeRecords(); nothing per packet is allocated in JS by this side.
#include <cstdio>
#include <cstring>
#include <memory>

#include "binding.h"
#include "mqtt_packet.h"
#include "mqtt_stream.h"

namespace tedge::binding {
namespace {

constexpr int kDescWords = 12;
constexpr int kMetaWords = 8;

enum DescFlags : int32_t {
  kFromCarry = 1 << 12,
  kError = 1 << 13,
  kTopicNew = 1 << 14,
};

class FrameParser : public Napi::ObjectWrap<FrameParser> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FrameParser",
                       {InstanceMethod("parse", &FrameParser::Parse), InstanceMethod("takeRecords", &FrameParser::TakeRecords),
                        InstanceMethod("takeCarry", &FrameParser::TakeCarry)});
  }

  // new FrameParser(desc: Int32Array, meta: Int32Array, protocolVersion: number, maxPacketSize: number, internTopics: boolean)
  explicit FrameParser(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FrameParser>(info), decoder_({}) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber() ||
        !info[3].IsNumber() || !info[4].IsBoolean()) {
      ThrowTypeError(env, "FrameParser(desc: Int32Array, meta: Int32Array, protocolVersion, maxPacketSize, internTopics)");
      return;
    }
    Napi::TypedArray desc = info[0].As<Napi::TypedArray>();
    Napi::TypedArray meta = info[1].As<Napi::TypedArray>();
    if (desc.TypedArrayType() != napi_int32_array || meta.TypedArrayType() != napi_int32_array ||
        desc.ElementLength() < kDescWords || meta.ElementLength() < kMetaWords) {
      ThrowTypeError(env, "desc and meta must be Int32Arrays of at least 12 and 8 elements");
      return;
    }
    desc_ref_ = Napi::Persistent(desc.As<Napi::Object>());
    meta_ref_ = Napi::Persistent(meta.As<Napi::Object>());
    desc_ = desc.As<Napi::Int32Array>().Data();
    desc_capacity_ = desc.ElementLength() / kDescWords;
    meta_ = meta.As<Napi::Int32Array>().Data();
    mqtt::StreamDecoder::Options o;
    double version = info[2].As<Napi::Number>().DoubleValue();
    o.protocol_version = version == 3 || version == 4 || version == 5 ? static_cast<uint8_t>(version) : 0;
    double max = info[3].As<Napi::Number>().DoubleValue();
    o.max_packet_size = max >= 2 && max < 4294967296.0 ? static_cast<uint32_t>(max) : mqtt::kVarintMax + 5;
    decoder_ = mqtt::StreamDecoder(o);
    if (info[4].As<Napi::Boolean>().Value()) {
      uint32_t entries = desc_capacity_ * 4 > 1024 ? static_cast<uint32_t>(desc_capacity_ * 4) : 1024;
      interner_ = std::make_unique<mqtt::TopicInterner>(entries, 256);
    }
  }

 private:
  // parse(chunk: Uint8Array, offset: number): number of descriptors written.
  // offset 0 starts a new chunk; after a full descriptor table (meta[1] = 1) call again with meta[0].
  Napi::Value Parse(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
      return ThrowTypeError(env, "parse(chunk: Uint8Array, offset: number)");
    }
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_uint8_array) return ThrowTypeError(env, "chunk must be a Buffer or Uint8Array");
    Napi::Uint8Array chunk = ta.As<Napi::Uint8Array>();
    const uint8_t* data = chunk.Data();
    size_t len = chunk.ElementLength();
    int64_t off64 = info[1].As<Napi::Number>().Int64Value();
    size_t offset = off64 > 0 && static_cast<size_t>(off64) <= len ? static_cast<size_t>(off64) : 0;
    if (offset == 0) decoder_.begin_chunk();
    decoder_.clear_records();
    has_carry_ = false;
    carry_ref_.Reset();
    // Start the topic table over between calls, never during one, so that every id in this call's
    // descriptors means one topic; meta[7] tells the consumer to drop its table first.
    meta_[7] = 0;
    if (interner_ && interner_->size() + desc_capacity_ > interner_->capacity()) {
      interner_->clear();
      meta_[7] = 1;
    }

    size_t count = 0;
    int32_t status = 0;
    size_t publishes = 0, new_topics = 0;
    if (paused_calls_ > 0) paused_calls_--;
    for (;;) {
      if (count == desc_capacity_) {
        status = 1;
        break;
      }
      mqtt::StreamDecoder::Event ev;
      auto next = decoder_.next(data, len, offset, ev);
      if (next == mqtt::StreamDecoder::Next::NeedMore) break;
      int32_t* d = desc_ + count * kDescWords;
      const mqtt::PacketDesc& p = ev.desc;
      int32_t w0 = p.first_byte | (p.version << 8) | (p.bridge ? 1 << 11 : 0);
      if (next == mqtt::StreamDecoder::Next::Error) {
        d[0] = w0 | kError;
        d[1] = static_cast<int32_t>(ev.error);
        count++;
        break;
      }
      if (ev.from_carry) {
        w0 |= kFromCarry;
        carry_ref_ = Napi::Persistent(Napi::Buffer<uint8_t>::Copy(env, ev.src, ev.src_len).As<Napi::Object>());
        has_carry_ = true;
      }
      int32_t topic_id = -1;
      if (interner_ && (p.first_byte >> 4) == 3 && paused_calls_ == 0) {
        auto r = interner_->intern(ev.src + p.topic_off, p.topic_len);
        topic_id = r.id;
        publishes++;
        if (r.is_new) {
          w0 |= kTopicNew;
          new_topics++;
        }
      }
      d[0] = w0;
      d[1] = static_cast<int32_t>(p.remaining_length);
      d[2] = static_cast<int32_t>(p.body);
      d[3] = static_cast<int32_t>(p.topic_off);
      d[4] = static_cast<int32_t>(p.topic_len);
      d[5] = static_cast<int32_t>(p.payload_off);
      d[6] = static_cast<int32_t>(p.payload_len);
      d[7] = p.message_id;
      d[8] = topic_id;
      d[9] = static_cast<int32_t>(ev.records_begin / 3);
      d[10] = static_cast<int32_t>((ev.records_end - ev.records_begin) / 3);
      d[11] = p.header_len;
      count++;  // at most one frame per call completes from the carry: the first one
    }
    // Interning pays when topics repeat; when most are new (every topic distinct), hashing them only
    // adds work, so it pauses for a while and then tries again.
    if (publishes >= 64 && new_topics * 4 > publishes * 3) paused_calls_ = 16;
    meta_[0] = static_cast<int32_t>(offset);
    meta_[1] = status;
    meta_[2] = static_cast<int32_t>(decoder_.mqtt_packet_pending());
    meta_[3] = static_cast<int32_t>(count);
    meta_[4] = decoder_.settings().version;
    meta_[5] = decoder_.settings().bridge ? 1 : 0;
    meta_[6] = static_cast<int32_t>(decoder_.carried());
    return Napi::Number::New(env, static_cast<double>(count));
  }

  // takeRecords(): Int32Array of the last parse() call's records (3 words each), or undefined.
  Napi::Value TakeRecords(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto& r = decoder_.records();
    if (r.empty()) return env.Undefined();
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, r.size() * sizeof(int32_t));
    std::memcpy(ab.Data(), r.data(), r.size() * sizeof(int32_t));
    return Napi::Int32Array::New(env, r.size(), ab, 0);
  }

  // takeCarry(): the Buffer holding the frame that completed across chunks in the last call.
  Napi::Value TakeCarry(const Napi::CallbackInfo& info) {
    if (!has_carry_) return info.Env().Undefined();
    return carry_ref_.Value();
  }

  mqtt::StreamDecoder decoder_;
  std::unique_ptr<mqtt::TopicInterner> interner_;
  Napi::ObjectReference desc_ref_, meta_ref_, carry_ref_;
  int32_t* desc_ = nullptr;
  size_t desc_capacity_ = 0;
  int32_t* meta_ = nullptr;
  bool has_carry_ = false;
  int paused_calls_ = 0;
};

Napi::Value ErrorFormats(const Napi::CallbackInfo& info) {
  // Index = ParseError value; "%x"/"%s" placeholders are filled on the TS side.
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  for (uint32_t i = 0; i <= 40; i++)
    out.Set(i, Napi::String::New(env, mqtt::parse_error_format(static_cast<mqtt::ParseError>(i))));
  return out;
}

}  // namespace

void InitFrameParser(Napi::Env env, Napi::Object exports) {
  exports.Set("FrameParser", FrameParser::Define(env));
  exports.Set("parseErrorFormats", Napi::Function::New(env, ErrorFormats));
}

}  // namespace tedge::binding
